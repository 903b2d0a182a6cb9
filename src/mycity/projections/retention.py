"""The retention schedule: each citizen's statutory records, and when each may go.

One row per record (the registration, each application, each licence), with the person
(and co-applicant) it is a record of, the day it ended and the day its retention period
ends under `data/retention`. A closed account's statutory key goes when none of its
records is kept any longer: the retention sweep asks `due` for those people. Days are
UTC dates of the events. The rules are read when a row is folded: changing them is a new
version of this read model, rebuilt beside the live one.
"""

from __future__ import annotations

from datetime import date
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.data import load_retention
from mycity.domain.application import Application
from mycity.domain.citizen import Citizen
from mycity.domain.licence import Licence
from mycity.domain.retention import Record, RecordKind
from mycity.projections.fold import RowProjection
from mycity.projections.store import LiveRows, Row, TableSpec

CITIZEN = "CITIZEN"


class RetentionSchedule(RowProjection):
    name = "retention"
    opens = frozenset()  # ids, kinds and dates only
    version = 1
    creating = (Citizen.Registered, Application.Submitted, Licence.Issued)
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),  # the record: the citizen, application or licence id
            ("kind", "TEXT NOT NULL"),
            ("person", "TEXT NOT NULL"),
            ("co_person", "TEXT"),  # a joint application's co-applicant
            ("item", "TEXT NOT NULL"),
            ("ends", "TEXT"),  # the day it ended (a licence: its validity ends); None: not yet
            ("kept_until", "TEXT"),  # the day it may be erased; None: not yet known, or never
            ("held", "INTEGER NOT NULL"),  # a registration under a legal hold
            ("done", "INTEGER NOT NULL"),  # a registration whose statutory key is gone
        ),
        indexes=(("person",), ("co_person",), ("kind", "done", "kept_until")),
    )

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: Citizen.Registered, row: Row | None) -> Row:
        return _record(RecordKind.REGISTRATION, event.originator_id, event.originator_id)

    @apply.register
    def _(self, event: Citizen.Erased, row: Row | None) -> Row | None:
        return row and _ended(row, _day(event))

    @apply.register
    def _(self, event: Citizen.LegalHoldPlaced | Citizen.LegalHoldLifted, row: Row | None) -> Any:
        return row and row | {"held": int(isinstance(event, Citizen.LegalHoldPlaced))}

    @apply.register
    def _(self, event: Citizen.StatutoryRecordsErased, row: Row | None) -> Row | None:
        return row and row | {"done": 1}

    @apply.register
    def _(self, event: Application.Submitted, row: Row | None) -> Row | None:
        if event.applicant_kind != CITIZEN or event.parts:
            return None  # an enterprise's (but see Withdrawn); a bundle: its parts are
        return _record(
            RecordKind.APPLICATION,
            event.originator_id,
            event.applicant,
            event.item,
            co_person=event.co_applicant,
        )

    @apply.register
    def _(
        self,
        event: Application.Rejected | Application.Completed | Application.AcceptanceLapsed,
        row: Row | None,
    ) -> Row | None:
        return row and _ended(row, _day(event))

    @apply.register
    def _(self, event: Application.Withdrawn, row: Row | None) -> Row | None:
        """The reason is the withdrawer's, sealed under their key: an agent withdrawing an
        enterprise's application makes it a record of theirs too (kept as an application
        is), so their key outlives it."""
        if row is None:
            row = _record(RecordKind.APPLICATION, event.originator_id, event.by)
        return _ended(row, _day(event))

    @apply.register
    def _(self, event: Licence.Issued, row: Row | None) -> Row | None:
        if event.holder_kind != CITIZEN:
            return None
        ends = date.fromisoformat(event.valid_until) if event.valid_until else None
        row = _record(RecordKind.LICENCE, event.originator_id, event.holder, event.type_code)
        return _ended(row, ends) if ends else row

    @apply.register
    def _(self, event: Licence.Revoked, row: Row | None) -> Row | None:
        """A revoked licence's validity ended that day, if it had not already."""
        if row is None:
            return None
        day = _day(event)
        return _ended(row, min(day, date.fromisoformat(row["ends"])) if row["ends"] else day)


def _record(
    kind: RecordKind, reference: UUID, person: UUID, item: str = "", co_person: Any = None
) -> Row:
    return {
        "id": str(reference),
        "kind": kind.value,
        "person": str(person),
        "co_person": None if co_person is None else str(co_person),
        "item": item,
        "ends": None,
        "kept_until": None,
        "held": 0,
        "done": 0,
    }


def _ended(row: Row, day: date) -> Row:
    erased_on = load_retention().kept(_as_record(row | {"ends": day.isoformat()})).erased_on
    return row | {
        "ends": day.isoformat(),
        "kept_until": erased_on.isoformat() if erased_on else None,
    }


def _as_record(row: Row) -> Record:
    ends = row["ends"]
    return Record(
        RecordKind(row["kind"]),
        row["id"],
        row["item"],
        date.fromisoformat(ends) if ends else None,
    )


def _day(event: Any) -> date:
    return event.timestamp.date()  # type: ignore[no-any-return]  # eventsourcing: UTC


class Retention:
    """The schedule as the erasure and the retention sweep read it."""

    def __init__(self, rows: LiveRows) -> None:
        self.rows = rows

    def records_of(self, person: UUID) -> list[Record]:
        """The person's statutory records: as applicant, co-applicant, holder or citizen."""
        found = self.rows.select(
            "WHERE person = ? OR co_person = ? ORDER BY kind, id", [str(person), str(person)]
        )
        return [_as_record(row) for row in found]

    def due(self, today: date, limit: int) -> list[UUID]:
        """Closed accounts not held whose every statutory record's day has come, oldest
        first: their statutory keys may go."""
        view = self.rows.view
        still_kept = (
            f"SELECT 1 FROM {view} r WHERE r.{{who}} = c.id "
            "AND (r.kept_until IS NULL OR r.kept_until > ?)"
        )
        found = self.rows.select(
            f"c WHERE c.kind = ? AND c.done = 0 AND c.held = 0 AND c.kept_until <= ? "
            f"AND NOT EXISTS ({still_kept.format(who='person')}) "
            f"AND NOT EXISTS ({still_kept.format(who='co_person')}) "
            "ORDER BY c.kept_until, c.id LIMIT ?",
            [
                RecordKind.REGISTRATION.value,
                today.isoformat(),
                today.isoformat(),
                today.isoformat(),
                limit,
            ],
        )
        return [UUID(row["id"]) for row in found]
