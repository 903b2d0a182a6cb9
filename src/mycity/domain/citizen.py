"""The citizen's file (一人一档): every fact about one person, as events."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from mycity.domain.contact import changed_contact
from mycity.domain.errors import ErrorCode, UserError, checked
from mycity.domain.identifiers import validate_name, validate_phone, validate_resident_id
from mycity.domain.personal import Kind, Retention, not_personal, personal
from mycity.domain.reasons import validate_reason


class RealNameLevel(StrEnum):
    """How sure the city is that the file belongs to the person named in it, weakest first."""

    REGISTERED = "REGISTERED"
    VERIFIED = "VERIFIED"
    VERIFIED_IN_PERSON = "VERIFIED_IN_PERSON"

    @property
    def rank(self) -> int:
        return list(RealNameLevel).index(self)


SERVICE = Retention.SERVICE_ACTIVITY
# A registration's name and ID number are a statutory record; the phone and the address
# are contact details only the app uses, erased with the account.
RETENTION = {
    "id_number": Retention.STATUTORY_RECORD,
    "name": Retention.STATUTORY_RECORD,
    "phone": SERVICE,
    "address": SERVICE,
}


class ErasureGround(StrEnum):
    """Why a person's data was erased (PIPL art. 47)."""

    REQUESTED_BY_PERSON = "REQUESTED_BY_PERSON"  # the person asked, or withdrew consent
    ORDERED = "ORDERED"  # an authority or a court ordered it


@dataclass(frozen=True)
class Person:
    """Who a live file belongs to: what commands and sign-ins use (an erased file has none)."""

    id_number: str
    name: str
    phone: str
    address: str


@personal(
    retention=RETENTION,
    id_number=Kind.ID_NUMBER,
    name=Kind.NAME,
    phone=Kind.PHONE,
    address=Kind.ADDRESS,
)
class Citizen(Aggregate):
    """A registered person. The aggregate id is a keyed hash of the ID number (see
    `identity.subjects`); the declared fields are sealed in its snapshots."""

    id: UUID  # given by the caller, so a second registration collides in the store

    @personal(
        retention={f: RETENTION[f] for f in ("id_number", "name", "phone")},
        id_number=Kind.ID_NUMBER,
        name=Kind.NAME,
        phone=Kind.PHONE,
    )
    class Registered(Aggregate.Created):
        id_number: str
        name: str
        phone: str

    @not_personal("level", "check_reference", "officer_id")
    class RealNameVerified(Aggregate.Event):
        level: str
        check_reference: str
        officer_id: str

    @personal(retention=SERVICE, phone=Kind.PHONE, address=Kind.ADDRESS)
    class ContactChanged(Aggregate.Event):
        phone: str
        address: str

    @not_personal("level", "check_reference", "officer_id")
    @personal(
        retention={f: RETENTION[f] for f in ("name", "phone")}, name=Kind.NAME, phone=Kind.PHONE
    )
    class TakenOver(Aggregate.Event):
        """The person the ID number belongs to proved it and took the file over from
        whoever had registered it: name and phone are theirs now, the address is cleared."""

        name: str
        phone: str
        level: str
        check_reference: str
        officer_id: str

    @not_personal("reason", "by")
    class LegalHoldPlaced(Aggregate.Event):
        """The file must be kept as it is (an investigation, a court case): no erasure."""

        reason: str
        by: str

    @not_personal("reason", "by")
    class LegalHoldLifted(Aggregate.Event):
        reason: str
        by: str

    @not_personal("ground", "by")
    class Erased(Aggregate.Event):
        """The person's account was closed and their data erased: the key of their service
        activity is destroyed at once, so those fields, wherever stored, can no longer be
        read; their statutory records follow when kept no longer (`RecordsKept`). The
        events stay."""

        ground: str
        by: str

    @not_personal("erased_now", "kept")
    class RecordsKept(Aggregate.Event):
        """The receipt of an erasure (PIPL art. 47), recorded with it: the retention classes
        erased at once, and each statutory record kept: until when, under which rule (see
        `mycity.domain.retention.Kept.receipt`). Ids, codes, dates and laws only."""

        erased_now: list[str]
        kept: list[dict[str, Any]]

    @not_personal("by")
    class StatutoryRecordsErased(Aggregate.Event):
        """A closed account's statutory records have all outlived their retention periods:
        their key is destroyed, and they can no longer be read either."""

        by: str

    statutory_erased = False  # files snapshotted before there were retention classes

    @event(Registered)
    def __init__(self, id_number: str, name: str, phone: str) -> None:
        self.id_number: str | None = id_number
        self.name: str | None = name
        self.phone: str | None = phone
        self.address: str | None = ""
        self.real_name_level = RealNameLevel.REGISTERED.value
        self.legal_hold = ""  # the reason, while the file is held
        self.erased = False

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
        self.require_live()
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
        self.require_live()
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
        self.require_live()
        if new := changed_contact((self.phone or "", self.address or ""), phone, address):
            self._contact_changed(phone=new[0], address=new[1])

    @event(ContactChanged)
    def _contact_changed(self, phone: str, address: str) -> None:
        self.phone = phone
        self.address = address

    def place_legal_hold(self, *, reason: str, by: str) -> None:
        """A file is held while any of it can still be read: a closed account's statutory
        records are kept past their period while held."""
        if self.statutory_erased:
            raise UserError(ErrorCode.FILE_ERASED, "This file's records were erased")
        if self.legal_hold:
            raise UserError(ErrorCode.LEGAL_HOLD, f"Already held: {self.legal_hold}")
        self._legal_hold_placed(reason=validate_reason(reason, "reason"), by=by)

    @event(LegalHoldPlaced)
    def _legal_hold_placed(self, reason: str, by: str) -> None:
        self.legal_hold = reason

    def lift_legal_hold(self, *, reason: str, by: str) -> None:
        if not self.legal_hold:
            raise UserError(ErrorCode.NO_LEGAL_HOLD, "The file is not held")
        self._legal_hold_lifted(reason=validate_reason(reason, "reason"), by=by)

    @event(LegalHoldLifted)
    def _legal_hold_lifted(self, reason: str, by: str) -> None:
        self.legal_hold = ""

    def erase(
        self, *, ground: ErasureGround, by: str, erased_now: list[str], kept: list[dict[str, Any]]
    ) -> None:
        """Close the account and erase the person's data, unless the file is under a legal
        hold: the service activity at once, the statutory records `kept` (the receipt)
        when their periods end."""
        self.require_live()
        self._require_not_held()
        self._erased(ground=ground.value, by=by)
        self._records_kept(erased_now=erased_now, kept=kept)

    @event(Erased)
    def _erased(self, ground: str, by: str) -> None:
        self.id_number = self.name = self.phone = self.address = None
        self.erased = True

    @event(RecordsKept)
    def _records_kept(self, erased_now: list[str], kept: list[dict[str, Any]]) -> None:
        pass

    def erase_statutory_records(self, *, by: str) -> None:
        """The retention periods ended: the statutory records go too, unless held."""
        if not self.erased:
            raise UserError(ErrorCode.ILLEGAL_TRANSITION, "The account is not closed")
        if self.statutory_erased:
            raise UserError(ErrorCode.FILE_ERASED, "This file's records were erased")
        self._require_not_held()
        self._statutory_records_erased(by=by)

    @event(StatutoryRecordsErased)
    def _statutory_records_erased(self, by: str) -> None:
        self.statutory_erased = True

    def _require_not_held(self) -> None:
        if self.legal_hold:
            raise UserError(
                ErrorCode.LEGAL_HOLD, f"The file is under a legal hold: {self.legal_hold}"
            )

    def require_live(self) -> None:
        """An erased file takes no more commands: there is nobody left to act for."""
        if self.erased:
            raise UserError(ErrorCode.FILE_ERASED, "This file was erased")

    @property
    def person(self) -> Person:
        """The person's details, or FILE_ERASED once they can no longer be read."""
        self.require_live()
        id_number, name, phone, address = self.id_number, self.name, self.phone, self.address
        if id_number is None or name is None or phone is None or address is None:
            raise UserError(ErrorCode.FILE_ERASED, "This file's personal data was erased")
        return Person(id_number, name, phone, address)
