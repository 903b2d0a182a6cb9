"""Each rider's fares with each operator by day: what the rider's transit bill shows, and
what the nightly billing finds to do (rides left open, bills to make, bills overdue). No
stations: where the rider went stays in their file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.fare import Fare
from mycity.projections.fold import RowProjection
from mycity.projections.payment_list import PAID
from mycity.projections.store import LiveRows, Row, TableSpec


class FareDays(RowProjection):
    name = "fare_days"
    version = 1
    creating = (Fare.Opened,)
    opens = frozenset()  # amounts and days: the stations stay in the file
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),
            ("rider", "TEXT NOT NULL"),
            ("operator", "TEXT NOT NULL"),
            ("day", "TEXT NOT NULL"),
            ("rides", "INTEGER NOT NULL"),
            ("charged_fen", "BIGINT NOT NULL"),
            ("deferred_fen", "BIGINT NOT NULL"),
            ("billed_fen", "BIGINT NOT NULL"),
            ("bill", "TEXT NOT NULL"),  # the current bill's payment, "" if none
            ("open", "INTEGER NOT NULL"),  # a ride begun and not ended
            ("overdue", "INTEGER NOT NULL"),
        ),
        indexes=(("rider", "day"), ("day",)),
    )

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: Fare.Opened, row: Row | None) -> Row:
        return {
            "id": str(event.originator_id),
            "rider": str(event.rider),
            "operator": event.operator,
            "day": event.day,
            "rides": 0,
            "charged_fen": 0,
            "deferred_fen": 0,
            "billed_fen": 0,
            "bill": "",
            "open": 0,
            "overdue": 0,
        }

    @apply.register
    def _(self, event: Fare.TappedIn, row: Row | None) -> Row | None:
        return row and row | {"open": 1}

    @apply.register
    def _(self, event: Fare.Ridden, row: Row | None) -> Row | None:
        return row and row | {
            "open": 0,
            "rides": row["rides"] + 1,
            "charged_fen": row["charged_fen"] + event.charged_fen,
            "deferred_fen": row["deferred_fen"] + (event.charged_fen if event.deferred else 0),
        }

    @apply.register
    def _(self, event: Fare.Billed, row: Row | None) -> Row | None:
        return row and row | {"billed_fen": event.amount_fen, "bill": str(event.payment)}

    @apply.register
    def _(self, event: Fare.Overdue, row: Row | None) -> Row | None:
        return row and row | {"overdue": 1}


@dataclass(frozen=True)
class FareDay:
    id: UUID
    rider: UUID
    operator: str
    day: str
    rides: int
    charged_fen: int
    deferred_fen: int
    billed_fen: int
    bill: UUID | None
    open: bool
    overdue: bool

    @classmethod
    def of(cls, row: Row) -> FareDay:
        return cls(
            id=UUID(row["id"]),
            rider=UUID(row["rider"]),
            operator=row["operator"],
            day=row["day"],
            rides=int(row["rides"]),
            charged_fen=int(row["charged_fen"]),
            deferred_fen=int(row["deferred_fen"]),
            billed_fen=int(row["billed_fen"]),
            bill=UUID(row["bill"]) if row["bill"] else None,
            open=bool(row["open"]),
            overdue=bool(row["overdue"]),
        )


class FareDayList:
    """The reader of `fare_days`."""

    def __init__(self, rows: LiveRows) -> None:
        self.rows = rows

    def owed(self, rider: UUID, payments: LiveRows, first: int) -> list[FareDay]:
        """The rider's days with fares on credit whose bill is not paid (none made yet, or
        its payment in `payments`, the payment list beside this one, not paid whole), the
        latest first. Days paid at the gate or on a paid bill are left out before the
        limit, so they never crowd out one still owed."""
        view = self.rows.view
        found = self.rows.select(
            "WHERE rider = ? AND deferred_fen > 0 AND NOT EXISTS "
            f"(SELECT 1 FROM {payments.view} p WHERE p.id = {view}.bill AND {PAID}) "
            "ORDER BY day DESC, id DESC LIMIT ?",
            [str(rider), first],
        )
        return [FareDay.of(row) for row in found]

    def to_settle(self, today: str, oldest_bill: str, limit: int) -> list[FareDay]:
        """Days gone by with something left to do: a ride left open, fares on credit not on
        a bill, or a bill of a day since `oldest_bill` that may be unpaid or overdue."""
        found = self.rows.select(
            "WHERE day < ? AND overdue = 0 AND (open = 1 OR deferred_fen > billed_fen "
            "OR (deferred_fen > 0 AND day >= ?)) ORDER BY day, id LIMIT ?",
            [today, oldest_bill, limit],
        )
        return [FareDay.of(row) for row in found]
