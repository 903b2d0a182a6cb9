"""A payee's settlement (结算) by day: what it received and refunded on each of its days,
from its books (`PayeeDay`, written by the `payees` process). No payer in it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.payee_day import PayeeDay
from mycity.projections.fold import RowProjection
from mycity.projections.store import LiveRows, Row, TableSpec


class Settlement(RowProjection):
    name = "settlement"
    version = 1
    creating = (PayeeDay.Opened,)
    opens = frozenset()  # a payee's totals: no payer's field
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),  # the payee's book of the day
            ("payee", "TEXT NOT NULL"),
            ("day", "TEXT NOT NULL"),
            ("payments", "INTEGER NOT NULL"),
            ("received_fen", "BIGINT NOT NULL"),
            ("refunds", "INTEGER NOT NULL"),
            ("refunded_fen", "BIGINT NOT NULL"),
        ),
        indexes=(("payee", "day"),),
    )

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: PayeeDay.Opened, row: Row | None) -> Row:
        return {
            "id": str(event.originator_id),
            "payee": event.payee,
            "day": event.day,
            "payments": 0,
            "received_fen": 0,
            "refunds": 0,
            "refunded_fen": 0,
        }

    @apply.register
    def _(self, event: PayeeDay.Received, row: Row | None) -> Row | None:
        return row and row | {
            "payments": row["payments"] + 1,
            "received_fen": row["received_fen"] + event.amount_fen,
        }

    @apply.register
    def _(self, event: PayeeDay.RefundSent, row: Row | None) -> Row | None:
        return row and row | {
            "refunds": row["refunds"] + 1,
            "refunded_fen": row["refunded_fen"] + event.amount_fen,
        }


@dataclass(frozen=True)
class DaySettlement:
    payee: str
    day: str
    payments: int
    received_fen: int
    refunds: int
    refunded_fen: int
    reconciled: bool | None = None  # by the day's statement: None until it is reconciled

    @property
    def net_fen(self) -> int:
        return self.received_fen - self.refunded_fen

    @classmethod
    def of(cls, row: Row) -> DaySettlement:
        return cls(
            payee=row["payee"],
            day=row["day"],
            payments=int(row["payments"]),
            received_fen=int(row["received_fen"]),
            refunds=int(row["refunds"]),
            refunded_fen=int(row["refunded_fen"]),
        )


class Settlements:
    """The reader of `settlement`."""

    def __init__(self, rows: LiveRows) -> None:
        self.rows = rows

    def books_of(self, day: str) -> list[UUID]:
        """Every payee's book of the day (for reconciling it)."""
        return [UUID(row["id"]) for row in self.rows.select("WHERE day = ?", [day])]

    def of(self, payee: str, day: str) -> DaySettlement:
        """The payee's day; a day with nothing is all zeros."""
        found = self.rows.select("WHERE payee = ? AND day = ?", [payee, day])
        if not found:
            return DaySettlement(payee, day, 0, 0, 0, 0)
        return DaySettlement.of(found[0])
