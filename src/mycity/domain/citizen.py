"""The citizen's file (一人一档): every fact about one person, as events."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from mycity.domain.contact import changed_contact
from mycity.domain.errors import ErrorCode, UserError, checked
from mycity.domain.identifiers import validate_name, validate_phone, validate_resident_id


class RealNameLevel(StrEnum):
    """How sure the city is that the file belongs to the person named in it, weakest first."""

    REGISTERED = "REGISTERED"
    VERIFIED = "VERIFIED"
    VERIFIED_IN_PERSON = "VERIFIED_IN_PERSON"

    @property
    def rank(self) -> int:
        return list(RealNameLevel).index(self)


class Citizen(Aggregate):
    """A registered person. The aggregate id is a keyed hash of the ID number (see services)."""

    id: UUID  # given by the caller, so a second registration collides in the store

    class Registered(Aggregate.Created):
        id_number: str
        name: str
        phone: str

    class RealNameVerified(Aggregate.Event):
        level: str
        check_reference: str
        officer_id: str

    class ContactChanged(Aggregate.Event):
        phone: str
        address: str

    class TakenOver(Aggregate.Event):
        """The person the ID number belongs to proved it and took the file over from
        whoever had registered it: name and phone are theirs now, the address is cleared."""

        name: str
        phone: str
        level: str
        check_reference: str
        officer_id: str

    @event(Registered)
    def __init__(self, id_number: str, name: str, phone: str) -> None:
        self.id_number = id_number
        self.name = name
        self.phone = phone
        self.address = ""
        self.real_name_level = RealNameLevel.REGISTERED.value

    @classmethod
    def register(cls, *, id: UUID, id_number: str, name: str, phone: str) -> Citizen:
        """Validate and register; field names in errors match the GraphQL input."""
        return cls(  # type: ignore[call-arg]  # eventsourcing takes `id` (annotated)
            id=id,
            id_number=checked("idNumber", validate_resident_id, id_number),
            name=checked("name", validate_name, name),
            phone=checked("phone", validate_phone, phone),
        )

    @property
    def level(self) -> RealNameLevel:
        return RealNameLevel(self.real_name_level)

    def verify_real_name(self, *, matched: bool | None, check_reference: str) -> None:
        """Record the real-name check's answer: the name belongs to the ID number, or not.

        `matched` is None when the authority has no record of the number.
        """
        self.require_unverified()
        if matched is None:
            raise UserError(ErrorCode.REAL_NAME_UNAVAILABLE, "No record for this ID number")
        if not matched:
            raise UserError(ErrorCode.REAL_NAME_MISMATCH, "The name does not match the record")
        self._real_name_verified(
            level=RealNameLevel.VERIFIED.value, check_reference=check_reference, officer_id=""
        )

    def require_verified(self, field: str | None = None) -> None:
        """What needs identity (representing an enterprise, acting for one) needs a file
        whose real name is verified: an unverified one may have been registered by anyone."""
        if self.level.rank < RealNameLevel.VERIFIED.rank:
            raise UserError(
                ErrorCode.REAL_NAME_REQUIRED, "Verify the real name first (verifyRealName)", field
            )

    def require_unverified(self) -> None:
        """Refuse before asking the authority again about a file it has already verified."""
        if self.level.rank >= RealNameLevel.VERIFIED.rank:
            raise UserError(ErrorCode.ALREADY_VERIFIED, f"Already {self.level.value}")

    def verify_in_person(self, *, officer_id: str) -> None:
        """Record that an officer saw the person and the ID card at a service hall."""
        if self.level is RealNameLevel.VERIFIED_IN_PERSON:
            raise UserError(ErrorCode.ALREADY_VERIFIED, "Already verified in person")
        self._real_name_verified(
            level=RealNameLevel.VERIFIED_IN_PERSON.value, check_reference="", officer_id=officer_id
        )

    @event(RealNameVerified)
    def _real_name_verified(self, level: str, check_reference: str, officer_id: str) -> None:
        self.real_name_level = level

    def take_over(
        self, *, name: str, phone: str, proof: RealNameLevel, check_reference: str, officer_id: str
    ) -> None:
        """The rightful holder takes the file over, with a proof stronger than the file's
        own: the real-name check (of ID number, name and phone together) displaces a file
        nobody has verified; seeing the person in person displaces any file not verified in
        person. A file verified in person is only ever changed by its holder."""
        self.require_weaker_than(proof)
        self._taken_over(
            name=checked("name", validate_name, name),
            phone=checked("phone", validate_phone, phone),
            level=proof.value,
            check_reference=check_reference,
            officer_id=officer_id,
        )

    def require_weaker_than(self, proof: RealNameLevel) -> None:
        """Refuse a take-over whose proof is no stronger than the file's own."""
        if proof.rank <= self.level.rank:
            raise UserError(
                ErrorCode.ALREADY_VERIFIED,
                f"The file is {self.level.value}: take it over in person at a service hall",
            )

    @event(TakenOver)
    def _taken_over(
        self, name: str, phone: str, level: str, check_reference: str, officer_id: str
    ) -> None:
        self.name = name
        self.phone = phone
        self.address = ""
        self.real_name_level = level

    def change_contact(self, *, phone: str | None, address: str | None) -> None:
        if new := changed_contact((self.phone, self.address), phone, address):
            self._contact_changed(phone=new[0], address=new[1])

    @event(ContactChanged)
    def _contact_changed(self, phone: str, address: str) -> None:
        self.phone = phone
        self.address = address
