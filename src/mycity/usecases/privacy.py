"""A person's data: erasing it on request (PIPL art. 47), and holding a file from erasure.

Erasure records `Citizen.Erased` with its receipt (`Citizen.RecordsKept`) and releases the
phone in one transaction, then forgets the person's service activity: its data key is
shredded, so scans, check-ins, the city code's state and the contact details can no longer
be read anywhere, and their sessions end. The statutory records (registration,
applications, licences) are kept for their periods (`mycity.domain.retention`); the
retention sweep shreds their key once none is kept any longer. The events stay in the
log, and the Merkle tree over it still verifies. A legal hold, itself an event, refuses
erasure, and the end of the retention periods, until it is lifted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate

from mycity.domain.application import Application
from mycity.domain.application_status import Status
from mycity.domain.citizen import Citizen, ErasureGround
from mycity.domain.errors import Unavailable, UserError
from mycity.domain.personal import Retention
from mycity.domain.phone import PhoneClaim
from mycity.domain.retention import Kept, Record, RecordKind, RetentionRules
from mycity.identity.phone_codes import PhoneCodes
from mycity.identity.principal import Principal
from mycity.identity.subjects import SubjectIds
from mycity.identity.tokens import Tokens
from mycity.policy import privacy as policy
from mycity.policy.base import require_citizen
from mycity.store.files import CityFiles
from mycity.store.seals import key_id

SWEEPER = "retention"  # who erases statutory records whose periods ended
CLOSED_ACCOUNT = "申请人已注销账号 (the applicant closed their account)"
WAITING_FOR_THE_PERSON = frozenset({Status.AWAITING_CONFIRMATION, Status.CORRECTION_REQUESTED})


@dataclass(frozen=True)
class Erasure:
    """An erasure done, and its receipt: what went at once, and what is kept until when."""

    position: int
    erased_now: list[Retention]
    kept: list[Kept]
    statutory_erased_on: date | None  # None: not known yet (a record open), or never


@dataclass(frozen=True)
class Privacy:
    files: CityFiles
    ids: SubjectIds
    tokens: Tokens
    phone_codes: PhoneCodes
    rules: RetentionRules
    records_of: Callable[[UUID], list[Record]]  # the person's statutory records, as scheduled
    caught_up: Callable[[], bool]  # whether the schedule reached the log's head (it waits)
    today: Callable[[], date]  # in UTC, as the retention schedule dates events

    def erase_own(self, actor: Principal, code: str, origin: str | None = None) -> Erasure:
        """The person erases their own data, proving again that they hold the phone: a
        stolen session alone cannot erase anyone. The schedule is read before the code is
        spent, so an erasure refused for a moment does not cost the code."""
        citizen_id = require_citizen(actor)
        policy.require_may_erase(actor, citizen_id, ErasureGround.REQUESTED_BY_PERSON)
        records = self._records(citizen_id)
        phone = self.files.read(Citizen, citizen_id).person.phone
        self.phone_codes.verify(phone, code, origin)
        return self._erase(actor, citizen_id, ErasureGround.REQUESTED_BY_PERSON, records)

    def erase(self, actor: Principal, citizen_id: UUID, ground: ErasureGround) -> Erasure:
        """Erase the person's data: they ask for it themself, or an admin does on a
        verified request or an order."""
        policy.require_may_erase(actor, citizen_id, ground)
        return self._erase(actor, citizen_id, ground, self._records(citizen_id))

    def _erase(
        self, actor: Principal, citizen_id: UUID, ground: ErasureGround, records: list[Record]
    ) -> Erasure:
        """Close the account: the erasure and its receipt, the phone released, and the
        person's applications that only they could move on (a joint one awaiting
        confirmation, one awaiting their correction) withdrawn, so that each ends and is
        kept for its period rather than for good; then the service activity's key goes.
        The receipt lists every statutory record the schedule knows of."""
        erased_now = [Retention.SERVICE_ACTIVITY]

        def attempt() -> tuple[int, list[Kept]]:
            citizen = self.files.get(Citizen, citizen_id)
            phone = citizen.phone
            withdrawn = self._withdrawn(citizen_id, records)
            ended = [
                replace(r, ends=self.today()) if r.reference in withdrawn else r for r in records
            ]
            kept = [self.rules.kept(r) for r in ended]
            citizen.erase(
                ground=ground,
                by=actor.subject,
                erased_now=[r.value for r in erased_now],
                kept=[k.receipt() for k in kept],
            )
            changed: list[Aggregate] = [citizen, *withdrawn.values()]
            if phone is not None:
                claim = self.files.get(PhoneClaim, self.ids.phone(phone))
                claim.release()
                changed.append(claim)
            return self.files.commit(*changed), kept

        position, kept = self.files.retrying(attempt)
        self.forget(citizen_id)
        erased_on = self.rules.statutory_key_erased_on([k.record for k in kept])
        return Erasure(position, erased_now, kept, erased_on)

    def _withdrawn(self, citizen_id: UUID, records: list[Record]) -> dict[str, Application]:
        """The person's open applications waiting for them alone, withdrawn (not saved)."""
        withdrawn = {}
        for record in records:
            if record.kind is not RecordKind.APPLICATION or record.ends is not None:
                continue
            application = self.files.get(Application, UUID(record.reference))
            if application.status in WAITING_FOR_THE_PERSON:
                application.withdraw(by=citizen_id, reason=CLOSED_ACCOUNT)
                withdrawn[record.reference] = application
        return withdrawn

    def _records(self, citizen_id: UUID) -> list[Record]:
        """The schedule's records of the person, caught up with the log first (a receipt
        that missed one would be wrong: better to be asked again), the registration
        ending today."""
        if not self.caught_up():
            raise Unavailable()
        records = [r for r in self.records_of(citizen_id) if r.kind is not RecordKind.REGISTRATION]
        registration = Record(RecordKind.REGISTRATION, str(citizen_id), "", self.today())
        return [registration, *records]

    def forget(self, citizen_id: UUID) -> None:
        """Shred the key of the person's service activity and end their sessions (both
        idempotent: the erasures process does it again for every erasure it follows)."""
        self.files.vault.shred(key_id(citizen_id, Retention.SERVICE_ACTIVITY))
        self.tokens.end_sessions(str(citizen_id))

    def erase_statutory_records(self, citizen_id: UUID) -> bool:
        """The retention sweep: the closed account's statutory records all outlived their
        periods, so they go too (recorded first, then their key shredded); False if a
        record is still kept, the file is held, or it was done already."""
        erased_on = self.rules.statutory_key_erased_on(self.records_of(citizen_id))
        if erased_on is None or erased_on > self.today():
            return False  # the schedule moved on since it was asked (or was asked wrongly)
        try:
            self.files.update(Citizen, citizen_id, lambda c: c.erase_statutory_records(by=SWEEPER))
        except UserError:
            return False
        self.forget_records(citizen_id)
        return True

    def forget_records(self, citizen_id: UUID) -> None:
        """Shred the key of the person's statutory records (idempotent, as `forget`)."""
        self.files.vault.shred(key_id(citizen_id, Retention.STATUTORY_RECORD))

    def place_legal_hold(self, actor: Principal, citizen_id: UUID, reason: str) -> int:
        policy.require_may_hold(actor)
        return self.files.update(
            Citizen, citizen_id, lambda c: c.place_legal_hold(reason=reason, by=actor.subject)
        )

    def lift_legal_hold(self, actor: Principal, citizen_id: UUID, reason: str) -> int:
        policy.require_may_hold(actor)
        return self.files.update(
            Citizen, citizen_id, lambda c: c.lift_legal_hold(reason=reason, by=actor.subject)
        )
