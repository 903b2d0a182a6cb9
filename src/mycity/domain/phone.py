"""One phone, one file: a mobile number is held by at most one citizen at a time.

The claim is an aggregate of its own, saved in the same transaction as the citizen's
events, so two people cannot take the same number even when they register at once.
Its id is a keyed hash of the number; it stores no number.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.personal import not_personal


class PhoneClaim(Aggregate):
    id: UUID

    @not_personal("citizen_id")
    class Claimed(Aggregate.Created):
        citizen_id: UUID

    @not_personal("citizen_id")
    class Reclaimed(Aggregate.Event):
        citizen_id: UUID

    class Released(Aggregate.Event):
        pass

    @event(Claimed)
    def __init__(self, citizen_id: UUID) -> None:
        self.citizen_id: UUID | None = citizen_id

    def claim(self, citizen_id: UUID) -> None:
        if self.citizen_id is not None and self.citizen_id != citizen_id:
            raise UserError(ErrorCode.PHONE_IN_USE, "This number belongs to another file", "phone")
        if self.citizen_id is None:
            self._reclaimed(citizen_id=citizen_id)

    @event(Reclaimed)
    def _reclaimed(self, citizen_id: UUID) -> None:
        self.citizen_id = citizen_id

    def release(self) -> None:
        if self.citizen_id is not None:
            self._released()

    @event(Released)
    def _released(self) -> None:
        self.citizen_id = None
