"""The payee's side of every payment (收款), following the log: each payment that succeeds
on the payer's side is received in the payee's book of that day, and each refund is sent
from the book of the day it settled. Recorded with the process's position in one
transaction, so a crash between the two sides loses nothing and counts nothing twice."""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from zoneinfo import ZoneInfo

from mycity.domain.payee_day import PayeeDay, payee_day_id
from mycity.domain.payment import Payment
from mycity.processes.tracked import Process, Reply


def city_day(moment: str, zone: ZoneInfo) -> str:
    """The day, in the city's time zone, of an ISO 8601 moment (the provider's statement
    counts its days so)."""
    return datetime.fromisoformat(moment).astimezone(zone).date().isoformat()


class Payees(Process):
    name = "payees"

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)

    @singledispatchmethod
    def policy(self, event: Any, reply: Reply) -> None:
        pass

    @policy.register
    def _(self, event: Payment.Succeeded, reply: Reply) -> None:
        book = self._book(reply, event.payee, event.settled_at)
        book.received(
            payment=event.originator_id,
            kind=event.kind,
            amount_fen=event.amount_fen,
            settled_at=event.settled_at,
        )
        reply.save(book)

    @policy.register
    def _(self, event: Payment.Refunded, reply: Reply) -> None:
        book = self._book(reply, event.payee, event.settled_at)
        book.refund_sent(
            payment=event.originator_id,
            refund=event.refund,
            kind=event.kind,
            amount_fen=event.amount_fen,
            settled_at=event.settled_at,
        )
        reply.save(book)

    def _book(self, reply: Reply, payee: str, settled_at: str) -> PayeeDay:
        day = city_day(settled_at, self.zone)
        book = reply.find(payee_day_id(payee, day))
        if isinstance(book, PayeeDay):
            return book
        return PayeeDay(id=payee_day_id(payee, day), payee=payee, day=day)  # type: ignore[call-arg]
