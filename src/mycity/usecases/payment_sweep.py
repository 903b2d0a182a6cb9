"""Asking the provider after what it has not answered: a payment still pending (its
notification lost, its answer timed out, its request cut off by a crash) and a refund
reserved but not yet sent (one the `fee refunds` process reserved, or one whose request
failed). Asking again is safe: by its key the provider moves the money once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from mycity.domain.payment import IN_FLIGHT_S, Payment, PaymentStatus
from mycity.usecases.payments import Payments
from mycity.usecases.sweeps import Sweep

log = logging.getLogger(__name__)


class Owed(Protocol):
    @property
    def id(self) -> UUID: ...


@dataclass(kw_only=True)
class PaymentSweep(Sweep):
    payments: Payments
    owed: Callable[[str, int], Sequence[Owed]]  # requested before a moment, at most so many
    clock: Callable[[], float]
    every_seconds: float = 10.0

    def sweep(self) -> int:
        """Ask after each payment owed an answer; how many the provider settled."""
        before = datetime.fromtimestamp(self.clock() - IN_FLIGHT_S, UTC)
        settled = 0
        for row in self.owed(before.isoformat(timespec="seconds"), self.batch):
            try:
                settled += self._ask(row.id)
            except Exception:  # one payment's trouble never stops the others
                log.exception("asking the provider after payment %s failed", row.id)
        return settled

    def _ask(self, payment_id: UUID) -> int:
        payment = self.payments.files.read(Payment, payment_id)
        settled = 0
        if payment.status is PaymentStatus.PENDING:
            payment, _ = self.payments.charge_again(payment_id)
            settled += payment.status is not PaymentStatus.PENDING
        for refund, state in list(payment.refunds.items()):
            if state["status"] == PaymentStatus.PENDING:
                after, _ = self.payments.send_refund(payment_id, refund)
                settled += after.refunds[refund]["status"] != PaymentStatus.PENDING
        return settled
