"""The application: the use cases of citizens', enterprises' and staff's files.

Each method is one command: it loads aggregates, asks the policy whether the caller may,
lets the aggregate decide, and saves the new events in one transaction. It returns the
position of the last event in the global log, so that callers can wait for read models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from mycity.domain.citizen import Citizen
from mycity.domain.enterprise import AgentScope, Enterprise
from mycity.domain.errors import ErrorCode, Forbidden, UserError, checked
from mycity.domain.identifiers import validate_credit_code, validate_phone, validate_resident_id
from mycity.domain.phone import PhoneClaim
from mycity.identity import policy
from mycity.identity.principal import Principal
from mycity.identity.subjects import SubjectIds
from mycity.integrations.realname import RealNameCheck, Verdict

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)


class CityFiles(Application[UUID]):
    """One event store for every file, so one global log orders every fact in the city."""

    name = "CityFiles"

    def __init__(self, env: dict[str, str], *, ids: SubjectIds, real_names: RealNameCheck) -> None:
        super().__init__(env)
        self.ids = ids
        self.real_names = real_names
        self.on_saved: list[Callable[[], None]] = []

    def _notify(self, recordings: list[Any]) -> None:
        """After each save: wake whoever keeps read models up to date in this process."""
        for listener in self.on_saved:
            listener()

    # -- citizens -------------------------------------------------------------------------

    def check_registration(
        self, id_number: str, name: str, phone: str
    ) -> tuple[Citizen, PhoneClaim]:
        """What registering would save, or the refusal: checked before a phone code is spent."""
        citizen = self._new_citizen(id_number, name, phone)
        if citizen.id in self.repository:
            raise UserError(ErrorCode.ALREADY_REGISTERED, "Already registered", "idNumber")
        return citizen, self._claimed_phone(citizen.phone, citizen.id)

    def register_citizen(self, id_number: str, name: str, phone: str) -> tuple[Citizen, int]:
        """Save optimistically: the store refuses a second file or a taken phone by itself,
        so the common case costs one round trip; only a refusal reads, to say why (or to
        take back a number released by another file)."""
        citizen = self._new_citizen(id_number, name, phone)
        claim = PhoneClaim(id=self.ids.phone(citizen.phone), citizen_id=citizen.id)  # type: ignore[call-arg]
        try:
            return citizen, self._save(citizen, claim)
        except IntegrityError:
            pass
        citizen, claim = self.check_registration(id_number, name, phone)
        try:
            return citizen, self._save(citizen, claim)
        except IntegrityError:  # someone registered the same person or phone meanwhile
            if citizen.id in self.repository:
                raise UserError(
                    ErrorCode.ALREADY_REGISTERED, "Already registered", "idNumber"
                ) from None
            raise UserError(
                ErrorCode.PHONE_IN_USE, "This number belongs to another file", "phone"
            ) from None

    def principal_for_phone(self, phone: str) -> Principal | None:
        """Who logs in with this phone, once its code is verified: the file that holds it."""
        citizen_id = self.citizen_id_by_phone(phone)
        if citizen_id is None:
            return None
        citizen = self._get(Citizen, citizen_id)
        return Principal.of_citizen(citizen.id, citizen.name)

    def citizen_id_by_phone(self, phone: str) -> UUID | None:
        try:
            claim: PhoneClaim = self.repository.get(self.ids.phone(validate_phone(phone)))
        except (AggregateNotFoundError, UserError):
            return None
        return claim.citizen_id

    def citizen(self, actor: Principal, citizen_id: UUID) -> Citizen:
        if not policy.can_read_citizen(actor, citizen_id):
            raise Forbidden("This is another person's file")
        return self._get(Citizen, citizen_id)

    def verify_real_name(self, actor: Principal) -> int:
        """Ask the real-name check whether the file's name belongs to its ID number."""
        citizen_id = policy.require_citizen(actor)

        def verify() -> int:
            citizen = self._get(Citizen, citizen_id)
            result = self.real_names.check(citizen.id_number, citizen.name)
            matched = (
                None if result.verdict is Verdict.NOT_FOUND else result.verdict is Verdict.MATCH
            )
            citizen.verify_real_name(matched=matched, check_reference=result.reference)
            return self._save(citizen)

        return self._retrying(verify)

    def verify_in_person(self, actor: Principal, citizen_id: UUID) -> int:
        if not policy.can_verify_in_person(actor):
            raise Forbidden("Only an officer verifies in person")
        return self._update(
            Citizen, citizen_id, lambda c: c.verify_in_person(officer_id=actor.subject)
        )

    def change_citizen_contact(
        self, actor: Principal, phone: str | None, address: str | None
    ) -> int:
        """Change one's own contact; a new phone moves the phone claim in the same transaction."""
        citizen_id = policy.require_citizen(actor)

        def change() -> int:
            citizen = self._get(Citizen, citizen_id)
            old_phone = citizen.phone
            citizen.change_contact(phone=phone, address=address)
            if citizen.phone == old_phone:
                return self._save(citizen)
            old_claim: PhoneClaim = self.repository.get(self.ids.phone(old_phone))
            old_claim.release()
            return self._save(citizen, old_claim, self._claimed_phone(citizen.phone, citizen.id))

        return self._retrying(change)

    # -- enterprises ----------------------------------------------------------------------

    def register_enterprise(
        self,
        actor: Principal,
        credit_code: str,
        name: str,
        legal_representative_id_number: str | None = None,
    ) -> tuple[Enterprise, int]:
        """A citizen registers their own enterprise; an officer may name another representative."""
        if legal_representative_id_number and policy.can_register_enterprise_for_others(actor):
            number = checked(
                "legalRepresentativeIdNumber", validate_resident_id, legal_representative_id_number
            )
            representative = self.ids.citizen(number)
        elif legal_representative_id_number:
            raise Forbidden("Only officers register an enterprise for someone else")
        else:
            representative = policy.require_citizen(actor)
        if representative not in self.repository:
            raise UserError(
                ErrorCode.LEGAL_REPRESENTATIVE_NOT_REGISTERED,
                "The legal representative has no file",
                "legalRepresentativeIdNumber",
            )
        code = checked("creditCode", validate_credit_code, credit_code)
        enterprise = Enterprise.register(
            id=self.ids.enterprise(code),
            credit_code=code,
            name=name,
            legal_representative_id=representative,
        )
        try:
            return enterprise, self._save(enterprise)
        except IntegrityError:
            raise UserError(
                ErrorCode.ALREADY_REGISTERED, "Already registered", "creditCode"
            ) from None

    def authorise_agent(
        self, actor: Principal, enterprise_id: UUID, agent_id_number: str, scopes: list[str]
    ) -> tuple[UUID, int]:
        number = checked("agentIdNumber", validate_resident_id, agent_id_number)
        agent_id = self.ids.citizen(number)
        if agent_id not in self.repository:
            raise UserError(ErrorCode.NOT_FOUND, "The agent has no file", "agentIdNumber")
        by = policy.require_citizen(actor)
        return agent_id, self._update(
            Enterprise,
            enterprise_id,
            lambda e: e.authorise_agent(agent_id=agent_id, scopes=scopes, by=by),
        )

    def revoke_agent(self, actor: Principal, enterprise_id: UUID, agent_id: UUID) -> int:
        by = policy.require_citizen(actor)
        return self._update(
            Enterprise, enterprise_id, lambda e: e.revoke_agent(agent_id=agent_id, by=by)
        )

    def change_enterprise_contact(
        self, actor: Principal, enterprise_id: UUID, phone: str | None, address: str | None
    ) -> int:
        def change(enterprise: Enterprise) -> None:
            by = policy.require_enterprise_scope(actor, enterprise, AgentScope.PROFILE)
            enterprise.change_contact(phone=phone, address=address, by=by)

        return self._update(Enterprise, enterprise_id, change)

    # -- plumbing -------------------------------------------------------------------------

    def _new_citizen(self, id_number: str, name: str, phone: str) -> Citizen:
        number = checked("idNumber", validate_resident_id, id_number)
        return Citizen.register(
            id=self.ids.citizen(number), id_number=number, name=name, phone=phone
        )

    def _claimed_phone(self, phone: str, citizen_id: UUID) -> PhoneClaim:
        claim_id = self.ids.phone(phone)
        try:
            claim: PhoneClaim = self.repository.get(claim_id)
        except AggregateNotFoundError:
            return PhoneClaim(id=claim_id, citizen_id=citizen_id)  # type: ignore[call-arg]
        claim.claim(citizen_id)
        return claim

    def _get(self, kind: type[A], aggregate_id: UUID) -> A:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise UserError(ErrorCode.NOT_FOUND, f"No such {kind.__name__.lower()}", "id") from None
        if not isinstance(aggregate, kind):
            raise UserError(ErrorCode.NOT_FOUND, f"No such {kind.__name__.lower()}", "id")
        return aggregate

    def _update(self, kind: type[A], aggregate_id: UUID, command: Callable[[A], Any]) -> int:
        def attempt() -> int:
            aggregate = self._get(kind, aggregate_id)
            command(aggregate)
            return self._save(aggregate)

        return self._retrying(attempt)

    def _retrying(self, attempt: Callable[[], T], tries: int = 3) -> T:
        """Re-run a command that lost a race with another writer on the same file."""
        for _ in range(tries - 1):
            try:
                return attempt()
            except IntegrityError:
                continue
        try:
            return attempt()
        except IntegrityError:
            raise UserError(ErrorCode.CONCURRENT_CHANGE, "The file changed; try again") from None

    def _save(self, *aggregates: Aggregate) -> int:
        """Save atomically; return the position of the last new event, or the log's head."""
        recordings = self.save(*aggregates)
        if recordings:
            return recordings[-1].notification.id
        return self.recorder.max_notification_id() or 0
