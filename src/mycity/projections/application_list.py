"""Applications as lists: the applicant's own, a department's queue, what is overdue.

One row per application, without the form (its answers are the applicant's data and stay
in the file): the lists only need who, what, where it stands and by when. Dates are ISO
text ("" when unset), so the queue's order is the text's: an application not yet accepted
has no due date and comes first, by submission time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.application import Application
from mycity.domain.application_status import FEE_PAYABLE, Grade, Status
from mycity.projections.fold import RowProjection, touched
from mycity.projections.keysets import cursor, keyset, newest_first
from mycity.projections.payment_list import PAID
from mycity.projections.store import LiveRows, Row, TableSpec, ViewsById
from mycity.projections.subject_history import utc

# What a department still has to act on (awaiting the co-applicant is the applicants' turn).
QUEUED = (Status.SUBMITTED, Status.CORRECTION_REQUESTED, Status.ACCEPTED, Status.APPROVED)
RUNNING = (Status.ACCEPTED, Status.APPROVED)  # the promised date runs from acceptance


class ApplicationList(RowProjection):
    name = "application_list"
    opens = frozenset()  # the form and reasons stay in the file
    version = 1
    creating = (Application.Submitted,)
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),
            ("item", "TEXT NOT NULL"),
            ("department", "TEXT NOT NULL"),
            ("applicant", "TEXT NOT NULL"),
            ("applicant_kind", "TEXT NOT NULL"),
            ("co_applicant", "TEXT"),
            ("status", "TEXT NOT NULL"),
            ("submitted_at", "TEXT NOT NULL"),
            ("updated_at", "TEXT NOT NULL"),
            ("due", "TEXT NOT NULL"),
            ("missing", "TEXT NOT NULL"),
            ("missing_due", "TEXT NOT NULL"),
            ("fee_fen", "BIGINT NOT NULL"),
            ("bundle", "TEXT"),
            ("grade", "TEXT NOT NULL"),
            ("follow_up_open", "INTEGER NOT NULL"),
            ("version", "INTEGER NOT NULL"),
        ),
        indexes=(
            ("applicant", "submitted_at"),
            ("co_applicant",),
            ("department", "status", "due"),
            ("status", "missing_due"),
        ),
    )

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: Application.Submitted, row: Row | None) -> Row:
        co_applicant = event.co_applicant
        return {
            "id": str(event.originator_id),
            "item": event.item,
            "department": event.department,
            "applicant": str(event.applicant),
            "applicant_kind": event.applicant_kind,
            "co_applicant": str(co_applicant) if co_applicant else None,
            "status": initial_status(event).value,
            "submitted_at": utc(event.timestamp),
            "updated_at": event.timestamp.isoformat(),
            "due": "",
            "missing": "",
            "missing_due": "",
            "fee_fen": event.fee_fen,
            "bundle": str(event.bundle) if event.bundle else None,
            "grade": "",
            "follow_up_open": 0,
            "version": event.originator_version,
        }

    @apply.register
    def _(self, event: Application.Confirmed, row: Row | None) -> Row | None:
        return row and touched(row, event, status=Status.SUBMITTED.value)

    @apply.register
    def _(self, event: Application.Resubmitted, row: Row | None) -> Row | None:
        return row and touched(row, event, status=Status.SUBMITTED.value)

    @apply.register
    def _(self, event: Application.Accepted, row: Row | None) -> Row | None:
        return row and touched(
            row,
            event,
            status=Status.ACCEPTED.value,
            due=event.due,
            missing=event.missing,
            missing_due=event.missing_due,
        )

    @apply.register
    def _(self, event: Application.CorrectionRequested, row: Row | None) -> Row | None:
        return row and touched(row, event, status=Status.CORRECTION_REQUESTED.value)

    @apply.register
    def _(self, event: Application.MaterialSupplied, row: Row | None) -> Row | None:
        return row and touched(row, event, missing="", missing_due="")

    @apply.register
    def _(self, event: Application.AcceptanceLapsed, row: Row | None) -> Row | None:
        return row and touched(row, event, status=Status.LAPSED.value)

    @apply.register
    def _(self, event: Application.Approved, row: Row | None) -> Row | None:
        return row and touched(row, event, status=Status.APPROVED.value)

    @apply.register
    def _(self, event: Application.Rejected, row: Row | None) -> Row | None:
        return row and touched(row, event, status=Status.REJECTED.value)

    @apply.register
    def _(self, event: Application.LicencesIssued, row: Row | None) -> Row | None:
        return row and touched(row, event)

    @apply.register
    def _(self, event: Application.Completed, row: Row | None) -> Row | None:
        return row and touched(row, event, status=Status.COMPLETED.value)

    @apply.register
    def _(self, event: Application.Withdrawn, row: Row | None) -> Row | None:
        return row and touched(row, event, status=Status.WITHDRAWN.value)

    @apply.register
    def _(self, event: Application.Rated, row: Row | None) -> Row | None:
        return row and touched(
            row, event, grade=event.grade, follow_up_open=1 if event.follow_up else 0
        )

    @apply.register
    def _(self, event: Application.FollowUpClosed, row: Row | None) -> Row | None:
        return row and touched(row, event, follow_up_open=0)


def initial_status(event: Application.Submitted) -> Status:
    """As the aggregate starts: a bundle is in progress; a joint item awaits its co-applicant."""
    if event.parts:
        return Status.IN_PROGRESS
    return Status.AWAITING_CONFIRMATION if event.co_applicant else Status.SUBMITTED


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _uuid(text: str | None) -> UUID | None:
    return UUID(text) if text else None


@dataclass(frozen=True)
class ApplicationRow:
    """One application as the lists show it; `due` and `missing_due` are None when unset,
    `grade` until it is rated."""

    id: UUID
    item: str
    department: str
    applicant: UUID
    applicant_kind: str  # CITIZEN or ENTERPRISE
    co_applicant: UUID | None
    status: Status
    submitted_at: datetime
    updated_at: datetime
    due: date | None
    missing: str  # the material accepted as missing ("" if none)
    missing_due: date | None
    fee_fen: int
    bundle: UUID | None
    grade: Grade | None
    follow_up_open: bool
    version: int

    @property
    def mine_cursor(self) -> str:
        """Where `mine` resumes after this row: "submitted_at|id"."""
        return cursor(utc(self.submitted_at), str(self.id))

    @property
    def queue_cursor(self) -> str:
        """Where `queue` and `overdue` resume after this row: "due|submitted_at|id"."""
        due = self.due.isoformat() if self.due else ""
        return cursor(due, utc(self.submitted_at), str(self.id))

    @classmethod
    def of(cls, row: Row) -> ApplicationRow:
        return cls(
            id=UUID(row["id"]),
            item=row["item"],
            department=row["department"],
            applicant=UUID(row["applicant"]),
            applicant_kind=row["applicant_kind"],
            co_applicant=_uuid(row["co_applicant"]),
            status=Status(row["status"]),
            submitted_at=datetime.fromisoformat(row["submitted_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
            due=_day(row["due"]),
            missing=row["missing"],
            missing_due=_day(row["missing_due"]),
            fee_fen=int(row["fee_fen"]),
            bundle=_uuid(row["bundle"]),
            grade=Grade(row["grade"]) if row["grade"] else None,
            follow_up_open=bool(row["follow_up_open"]),
            version=int(row["version"]),
        )


def _by_due_after(after: str | None) -> tuple[str, list[Any]]:
    found = keyset(after, 3)
    if found is None:
        return "", []
    due, submitted_at, key = found
    return (
        " AND (due > ? OR (due = ? AND (submitted_at > ? OR (submitted_at = ? AND id > ?))))",
        [due, due, submitted_at, submitted_at, key],
    )


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


class ApplicationLists(ViewsById[ApplicationRow]):
    """The reader of `application_list`; only `mycity.reads` uses it (the one door)."""

    def __init__(self, rows: LiveRows) -> None:
        super().__init__(rows, ApplicationRow.of)

    def _select(self, where: str, params: list[Any]) -> list[ApplicationRow]:
        return [ApplicationRow.of(row) for row in self.rows.select(where, params)]

    def mine(self, file_ids: Sequence[UUID], first: int, after: str | None) -> list[ApplicationRow]:
        """Applications these files (a citizen, the enterprises they act for) applied for
        or co-applied for, newest first, after `mine_cursor`."""
        if not file_ids:
            return []
        ids = [str(f) for f in file_ids]
        marks = _marks(ids)
        where = f"(applicant IN ({marks}) OR co_applicant IN ({marks}))"
        found = newest_first(self.rows, where, [*ids, *ids], "submitted_at", first, after)
        return [ApplicationRow.of(row) for row in found]

    def unpaid_fees(self, applicant: UUID, payments: LiveRows, limit: int) -> list[ApplicationRow]:
        """The applicant's open applications whose fee is not paid, oldest first: no
        payment of it in `payments` (the payment list, beside this one in the store)
        succeeded and kept whole. Paid ones are left out before the limit, so however many
        there are they never crowd out one still owed."""
        view = self.rows.view
        return self._select(
            "WHERE applicant = ? AND fee_fen > 0 AND status IN (?, ?, ?) AND NOT EXISTS "
            f"(SELECT 1 FROM {payments.view} p WHERE p.paying_for = {view}.id AND {PAID}) "
            "ORDER BY submitted_at, id LIMIT ?",
            [str(applicant), *(s.value for s in FEE_PAYABLE), limit],
        )

    def queue(self, department: str, first: int, after: str | None) -> list[ApplicationRow]:
        """The department's open applications by due date; those not yet accepted (no due
        date) first, by submission time. Resumes after `queue_cursor`."""
        condition, params = _by_due_after(after)
        return self._select(
            f"WHERE department = ? AND status IN ({_marks(QUEUED)}){condition} "
            "ORDER BY due, submitted_at, id LIMIT ?",
            [department, *(s.value for s in QUEUED), *params, first],
        )

    def overdue(
        self, department: str, today: date, first: int, after: str | None
    ) -> list[ApplicationRow]:
        """Accepted or approved applications past their due date (before `today`), by due
        date. Resumes after `queue_cursor`."""
        condition, params = _by_due_after(after)
        return self._select(
            f"WHERE department = ? AND status IN ({_marks(RUNNING)}) "
            f"AND due <> '' AND due < ?{condition} ORDER BY due, submitted_at, id LIMIT ?",
            [department, *(s.value for s in RUNNING), today.isoformat(), *params, first],
        )

    def lapsing(self, today: date, limit: int) -> list[UUID]:
        """Accepted applications whose missing material was due before `today`: the ones
        the sweeper lapses (`Application.lapse` decides again on the file itself)."""
        found = self.rows.select(
            "WHERE status = ? AND missing <> '' AND missing_due < ? "
            "ORDER BY missing_due, id LIMIT ?",
            [Status.ACCEPTED.value, today.isoformat(), limit],
        )
        return [UUID(row["id"]) for row in found]
