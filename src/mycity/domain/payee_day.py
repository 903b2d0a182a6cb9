"""A payee's takings on one day (the city's day, as the provider's statement counts it):
the payee's side of every payment, written by the `payees` process as each payment
succeeds or is refunded on the payer's side.

A file a payee a day keeps each file short however much a shop sells, and it names no
payer: when a payer's account closes, the payee's amounts stay whole.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mycity.domain.personal import not_personal


def payee_day_id(payee: str, day: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"mycity:payee-day:{payee}:{day}")


class PayeeDay(Aggregate):
    id: UUID

    @not_personal("payee", "day")
    class Opened(Aggregate.Created):
        payee: str  # the account at the provider: `merchant:…`, `dept:…`
        day: str  # YYYY-MM-DD in the city's time zone

    @not_personal("payment", "kind", "amount_fen", "settled_at")
    class Received(Aggregate.Event):
        payment: UUID
        kind: str
        amount_fen: int
        settled_at: str

    @not_personal("payment", "refund", "kind", "amount_fen", "settled_at")
    class RefundSent(Aggregate.Event):
        payment: UUID
        refund: UUID
        kind: str
        amount_fen: int
        settled_at: str

    @event(Opened)
    def __init__(self, payee: str, day: str) -> None:
        self.payee = payee
        self.day = day

    def received(self, *, payment: UUID, kind: str, amount_fen: int, settled_at: str) -> None:
        self._received(payment=payment, kind=kind, amount_fen=amount_fen, settled_at=settled_at)

    @event(Received)
    def _received(self, payment: UUID, kind: str, amount_fen: int, settled_at: str) -> None:
        pass

    def refund_sent(
        self, *, payment: UUID, refund: UUID, kind: str, amount_fen: int, settled_at: str
    ) -> None:
        self._refund_sent(
            payment=payment, refund=refund, kind=kind, amount_fen=amount_fen, settled_at=settled_at
        )

    @event(RefundSent)
    def _refund_sent(
        self, payment: UUID, refund: UUID, kind: str, amount_fen: int, settled_at: str
    ) -> None:
        pass
