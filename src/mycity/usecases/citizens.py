"""A citizen's own file: signing up, proving who they are, changing their contact.

Each use case checks the caller, lets the aggregates decide, and saves their events in one
transaction; it returns the position of its last event in the global log, so that the
answer can wait for the read models it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from mycity.domain.citizen import Citizen, RealNameLevel
from mycity.domain.errors import ErrorCode, Forbidden, UserError, checked
from mycity.domain.identifiers import validate_phone, validate_resident_id
from mycity.domain.phone import PhoneClaim
from mycity.identity.phone_codes import PhoneCodes
from mycity.identity.principal import Principal
from mycity.identity.subjects import SubjectIds
from mycity.identity.tokens import TokenPair, Tokens
from mycity.integrations.realname import RealNameCheck, Verdict
from mycity.policy import citizens as policy
from mycity.policy.base import require_citizen
from mycity.store.files import CityFiles


@dataclass(frozen=True)
class SignedUp:
    principal: Principal
    tokens: TokenPair
    position: int


@dataclass(frozen=True)
class Citizens:
    files: CityFiles
    ids: SubjectIds
    phone_codes: PhoneCodes
    tokens: Tokens
    real_names: RealNameCheck

    def sign_up(
        self, id_number: str, name: str, phone: str, code: str, origin: str | None = None
    ) -> SignedUp:
        """Open a file for whoever proves the phone with its code, and sign them in.

        The input's form is checked before the code is spent, so a typo costs no code; but
        whether the person or the phone is registered already is said only to a caller who
        has proved the phone (anything else would let anyone probe who is registered)."""
        citizen = self._new_citizen(id_number, name, phone)
        self.phone_codes.verify(citizen.person.phone, code, origin)
        if self.files.exists(citizen.id):
            raise UserError(ErrorCode.ALREADY_REGISTERED, "Already registered", "idNumber")
        claim = self._claimed_phone(citizen.person.phone, citizen.id)
        position = self._save_registration(citizen, claim)
        principal = Principal.of_citizen(citizen.id, citizen.person.name)
        return SignedUp(principal, self.tokens.issue(principal), position)

    def open_file(self, id_number: str, name: str, phone: str) -> tuple[Citizen, int]:
        """Open a file whose phone is already proven (demo data, imports).

        Saved optimistically: the store refuses a second file or a taken phone by itself,
        so the common case costs one round trip; only a refusal reads, to say why (or to
        take back a number released by another file)."""
        citizen = self._new_citizen(id_number, name, phone)
        claim = PhoneClaim(id=self.ids.phone(citizen.person.phone), citizen_id=citizen.id)  # type: ignore[call-arg]
        try:
            return citizen, self.files.commit(citizen, claim)
        except IntegrityError:
            pass
        citizen = self._new_citizen(id_number, name, phone)  # the failed save took its events
        if self.files.exists(citizen.id):
            raise UserError(ErrorCode.ALREADY_REGISTERED, "Already registered", "idNumber")
        return citizen, self._save_registration(
            citizen, self._claimed_phone(citizen.person.phone, citizen.id)
        )

    def reclaim(
        self, id_number: str, name: str, phone: str, code: str, origin: str | None = None
    ) -> SignedUp:
        """The person an ID number belongs to takes back a file someone else registered
        with it: they prove the phone by its code, and the real-name check confirms that
        the number, the name and the phone are all theirs. Only a file nobody has verified
        can be taken back so; a verified one, in person (`reclaim_in_person`)."""
        citizen = self._new_citizen(id_number, name, phone)
        self.phone_codes.verify(citizen.person.phone, code, origin)
        self._held(citizen).require_weaker_than(RealNameLevel.VERIFIED)
        result = self.real_names.check(
            citizen.person.id_number, citizen.person.name, citizen.person.phone
        )
        if result.verdict is not Verdict.MATCH:
            raise UserError(
                ErrorCode.REAL_NAME_MISMATCH,
                "The real-name check does not confirm this number, name and phone together: "
                "take the file back in person at a service hall",
            )
        position = self._take_over(
            citizen, RealNameLevel.VERIFIED, check_reference=result.reference, officer_id=""
        )
        principal = Principal.of_citizen(citizen.id, citizen.person.name)
        return SignedUp(principal, self.tokens.issue(principal), position)

    def reclaim_in_person(
        self, actor: Principal, id_number: str, name: str, phone: str, code: str
    ) -> tuple[UUID, int]:
        """An officer who has seen the person and their ID card gives them back the file
        their ID number was registered under, with the phone they prove there and then."""
        if not policy.can_verify_in_person(actor):
            raise Forbidden("Only an officer verifies in person")
        citizen = self._new_citizen(id_number, name, phone)
        self.phone_codes.verify(citizen.person.phone, code)
        self._held(citizen).require_weaker_than(RealNameLevel.VERIFIED_IN_PERSON)
        proof = RealNameLevel.VERIFIED_IN_PERSON
        return citizen.id, self._take_over(
            citizen, proof, check_reference="", officer_id=actor.subject
        )

    def _held(self, claimant: Citizen) -> Citizen:
        """The file registered with the claimant's ID number, which they claim."""
        try:
            return self.files.read(Citizen, claimant.id)
        except UserError:
            raise UserError(ErrorCode.NOT_FOUND, "No file has this ID number", "idNumber") from None

    def _take_over(
        self, claimant: Citizen, proof: RealNameLevel, check_reference: str, officer_id: str
    ) -> int:
        """The file passes to the claimant: their name and phone, the previous phone
        released, and every session of whoever held it ended."""

        def take_over() -> int:
            citizen = self.files.get(Citizen, claimant.id)
            old_phone = citizen.person.phone
            citizen.take_over(
                name=claimant.person.name,
                phone=claimant.person.phone,
                proof=proof,
                check_reference=check_reference,
                officer_id=officer_id,
            )
            return self._commit_with_phone(citizen, old_phone)

        # Ended before (if the save fails, the file stays as it was, its sessions gone) and
        # after (whoever held it may have signed in again meanwhile).
        self.tokens.end_sessions(str(claimant.id))
        position = self.files.retrying(take_over)
        self.tokens.end_sessions(str(claimant.id))
        return position

    def verify_real_name(self, actor: Principal) -> int:
        """Ask the real-name check, once, whether the file's name belongs to its ID number."""
        citizen_id = require_citizen(actor)
        citizen = self.files.get(Citizen, citizen_id)
        citizen.require_unverified()
        result = self.real_names.check(citizen.person.id_number, citizen.person.name)
        matched = None if result.verdict is Verdict.NOT_FOUND else result.verdict is Verdict.MATCH
        return self.files.update(
            Citizen,
            citizen_id,
            lambda c: c.verify_real_name(matched=matched, check_reference=result.reference),
        )

    def verify_in_person(self, actor: Principal, citizen_id: UUID) -> int:
        """An officer records seeing the person and their ID card at a service hall."""
        if not policy.can_verify_in_person(actor):
            raise Forbidden("Only an officer verifies in person")
        return self.files.update(
            Citizen, citizen_id, lambda c: c.verify_in_person(officer_id=actor.subject)
        )

    def change_contact(
        self,
        actor: Principal,
        phone: str | None,
        code: str | None,
        address: str | None,
        origin: str | None = None,
    ) -> int:
        """Change one's own contact. A new phone is proven by its code, and moves the
        phone claim in the same transaction."""
        citizen_id = require_citizen(actor)
        if phone is not None:
            phone = checked("phone", validate_phone, phone)
            if not code:
                raise UserError(ErrorCode.CODE_INVALID, "Send the code", "code")
            self.phone_codes.verify(phone, code, origin)

        def change() -> int:
            citizen = self.files.get(Citizen, citizen_id)
            old_phone = citizen.person.phone
            citizen.change_contact(phone=phone, address=address)
            return self._commit_with_phone(citizen, old_phone)

        return self.files.retrying(change)

    def _commit_with_phone(self, citizen: Citizen, old_phone: str) -> int:
        """Save the citizen; if their phone changed, its claim moves in the same transaction."""
        if citizen.person.phone == old_phone:
            return self.files.commit(citizen)
        old_claim = self.files.get(PhoneClaim, self.ids.phone(old_phone))
        old_claim.release()
        new_claim = self._claimed_phone(citizen.person.phone, citizen.id)
        return self.files.commit(citizen, old_claim, new_claim)

    def _new_citizen(self, id_number: str, name: str, phone: str) -> Citizen:
        number = checked("idNumber", validate_resident_id, id_number)
        return Citizen.register(
            id=self.ids.citizen(number), id_number=number, name=name, phone=phone
        )

    def _claimed_phone(self, phone: str, citizen_id: UUID) -> PhoneClaim:
        """The phone's claim for this citizen: new, taken back after a release, or refused."""
        claim_id = self.ids.phone(phone)
        claim = self.files.find(claim_id)
        if claim is None:
            return PhoneClaim(id=claim_id, citizen_id=citizen_id)  # type: ignore[call-arg]
        assert isinstance(claim, PhoneClaim)
        claim.claim(citizen_id)
        return claim

    def _save_registration(self, citizen: Citizen, claim: PhoneClaim) -> int:
        try:
            return self.files.commit(citizen, claim)
        except IntegrityError:  # someone registered the same person or phone meanwhile
            if self.files.exists(citizen.id):
                raise UserError(
                    ErrorCode.ALREADY_REGISTERED, "Already registered", "idNumber"
                ) from None
            raise UserError(
                ErrorCode.PHONE_IN_USE, "This number belongs to another file", "phone"
            ) from None
