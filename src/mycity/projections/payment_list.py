"""Every payment, as its payer lists them (bills and history, newest first) and as the
payment sweep finds those still owed an answer from the provider.

What was bought and where are the payer's service activity, sealed under their key as in
the events: once the account closes they read as None, and the amounts stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.payment import Payment
from mycity.domain.personal import Retention
from mycity.projections.fold import RowProjection
from mycity.projections.keysets import cursor, newest_first
from mycity.projections.store import LiveRows, Row, TableSpec

# A row of this list aliased `p` is a payment that settles what it pays for: it succeeded
# and nothing of it was given back (what bills join on).
PAID = "p.status = 'SUCCEEDED' AND p.refunded_fen = 0"


class PaymentList(RowProjection):
    name = "payment_list"
    version = 2
    creating = (Payment.Requested,)
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),
            ("payer", "TEXT NOT NULL"),
            ("payee", "TEXT NOT NULL"),
            ("payee_name", "TEXT NOT NULL"),
            ("kind", "TEXT NOT NULL"),
            ("amount_fen", "BIGINT NOT NULL"),
            ("refunded_fen", "BIGINT NOT NULL"),
            ("refunds_pending", "INTEGER NOT NULL"),
            ("status", "TEXT NOT NULL"),
            ("failure", "TEXT NOT NULL"),
            ("paying_for", "TEXT NOT NULL"),
            ("description", "TEXT"),  # sealed
            ("place", "TEXT"),  # sealed
            ("requested_at", "TEXT NOT NULL"),
            ("settled_at", "TEXT NOT NULL"),
        ),
        indexes=(
            ("payer", "requested_at"),
            ("payee", "requested_at"),
            ("status", "requested_at"),
            ("refunds_pending",),
            ("paying_for",),
        ),
        personal=frozenset({"description", "place"}),
        retention=Retention.SERVICE_ACTIVITY,
        subject="payer",
    )

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: Payment.Requested, row: Row | None) -> Row:
        return {
            "id": str(event.originator_id),
            "payer": str(event.payer),
            "payee": event.payee,
            "payee_name": event.payee_name,
            "kind": event.kind,
            "amount_fen": event.amount_fen,
            "refunded_fen": 0,
            "refunds_pending": 0,
            "status": "PENDING",
            "failure": "",
            "paying_for": event.paying_for,
            "description": event.description,
            "place": event.place,
            "requested_at": event.requested_at,
            "settled_at": "",
        }

    @apply.register
    def _(self, event: Payment.Succeeded, row: Row | None) -> Row | None:
        return row and row | {"status": "SUCCEEDED", "settled_at": event.settled_at}

    @apply.register
    def _(self, event: Payment.Failed, row: Row | None) -> Row | None:
        return row and row | {"status": "FAILED", "failure": event.failure}

    @apply.register
    def _(self, event: Payment.RefundRequested, row: Row | None) -> Row | None:
        return row and row | {"refunds_pending": row["refunds_pending"] + 1}

    @apply.register
    def _(self, event: Payment.Refunded, row: Row | None) -> Row | None:
        return row and row | {
            "refunds_pending": row["refunds_pending"] - 1,
            "refunded_fen": row["refunded_fen"] + event.amount_fen,
        }

    @apply.register
    def _(self, event: Payment.RefundFailed, row: Row | None) -> Row | None:
        return row and row | {"refunds_pending": row["refunds_pending"] - 1}


@dataclass(frozen=True)
class PaymentRow:
    id: UUID
    payer: UUID
    payee: str
    payee_name: str
    kind: str
    amount_fen: int
    refunded_fen: int
    refunds_pending: int
    status: str
    failure: str
    paying_for: str
    description: str | None  # None once the payer is erased
    place: str | None
    requested_at: datetime
    settled_at: datetime | None

    @property
    def cursor(self) -> str:
        """Where a list resumes after this payment: "requested_at|id"."""
        return cursor(self.requested_at.isoformat(timespec="seconds"), str(self.id))

    @classmethod
    def of(cls, row: Row) -> PaymentRow:
        return cls(
            id=UUID(row["id"]),
            payer=UUID(row["payer"]),
            payee=row["payee"],
            payee_name=row["payee_name"],
            kind=row["kind"],
            amount_fen=int(row["amount_fen"]),
            refunded_fen=int(row["refunded_fen"]),
            refunds_pending=int(row["refunds_pending"]),
            status=row["status"],
            failure=row["failure"],
            paying_for=row["paying_for"],
            description=row["description"],
            place=row["place"],
            requested_at=datetime.fromisoformat(row["requested_at"]),
            settled_at=datetime.fromisoformat(row["settled_at"]) if row["settled_at"] else None,
        )


class Payments:
    """The reader of `payment_list`; only `mycity.reads` and the sweep use it."""

    def __init__(self, rows: LiveRows) -> None:
        self.rows = rows

    def of_payer(
        self, payer: UUID, kinds: list[str], span: tuple[str, str] | None, first: int,
        after: str | None,
    ) -> list[PaymentRow]:  # fmt: skip
        """The payer's payments of these kinds (all, if none), requested in the span
        [since, until) of ISO moments in UTC if one is given, newest first."""
        where, params = "payer = ?", [str(payer)]
        if kinds:
            where += f" AND kind IN ({', '.join('?' * len(kinds))})"
            params += kinds
        if span:
            where += " AND requested_at >= ? AND requested_at < ?"
            params += list(span)
        found = newest_first(self.rows, where, params, "requested_at", first, after)
        return [PaymentRow.of(row) for row in found]

    def owed_an_answer(self, requested_before: str, limit: int) -> list[PaymentRow]:
        """Payments the provider has not settled (requested before the moment, so not
        being answered now), and those with a refund still to ask for, oldest first."""
        found = self.rows.select(
            "WHERE (status = 'PENDING' AND requested_at < ?) OR refunds_pending > 0 "
            "ORDER BY requested_at, id LIMIT ?",
            [requested_before, limit],
        )
        return [PaymentRow.of(row) for row in found]
