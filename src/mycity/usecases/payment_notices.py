"""The provider's notifications (docs/payments.md §3): signed the Standard Webhooks way
with Ed25519 (`v1a`), fresh within five minutes, and each id accepted once.

A notification only tells the city what it could ask: it is recorded as the provider's
answer would be (twice is once), so an id is remembered after it is recorded; a delivery
that fails before then is retried by the provider and recorded then. Ids are kept ten
minutes, longer than a signature stays fresh: an older replay is refused as stale.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mycity.domain.payment import Payment, PaymentStatus, reference_id
from mycity.integrations.payments import Settlement
from mycity.integrations.webhooks import NotificationRefused, Refusal, verify
from mycity.store.sql import Database
from mycity.usecases.payments import Payments

log = logging.getLogger(__name__)

KEPT_S = 600  # how long an accepted id is remembered
CHARGE_TYPES = frozenset({"charge.succeeded", "charge.failed"})
REFUND_TYPES = frozenset({"refund.succeeded", "refund.failed"})


@dataclass
class PaymentNotices:
    db: Database
    payments: Payments
    keys: list[Ed25519PublicKey]
    clock: Callable[[], float]

    def __post_init__(self) -> None:
        self.table = self.db.table("payment_notifications")

    def create_tables(self) -> None:
        self.db.create_tables(
            [
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                "webhook_id TEXT PRIMARY KEY, received_at DOUBLE PRECISION NOT NULL)"
            ]
        )

    def receive(self, headers: Mapping[str, str], body: bytes) -> None:
        """Verify and record a notification; NotificationRefused says why not (logged by
        its kind and id, never its body)."""
        lowered = {k.lower(): v for k, v in headers.items()}
        now = self.clock()
        try:
            verified = verify(self.keys, lowered, body, now)
            if self._seen(verified.message_id):
                raise NotificationRefused(Refusal.REPLAYED)
            kind, settlement = _parse(body)
        except NotificationRefused as e:
            log.warning(
                "payment notification refused: %s (webhook-id %r)",
                e.refusal.value,
                lowered.get("webhook-id", "")[:64],
            )
            raise
        self._record(kind, settlement)
        with self.db.transaction() as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE received_at < ?", [now - KEPT_S])
            cur.execute(
                f"INSERT INTO {self.table} (webhook_id, received_at) VALUES (?, ?) "
                "ON CONFLICT (webhook_id) DO NOTHING",
                [verified.message_id, now],
            )

    def _seen(self, message_id: str) -> bool:
        with self.db.read() as cur:
            found = cur.execute(
                f"SELECT 1 FROM {self.table} WHERE webhook_id = ? AND received_at >= ?",
                [message_id, self.clock() - KEPT_S],
            ).fetchone()
        return found is not None

    def _record(self, kind: str, settlement: Settlement) -> None:
        """Record what the notification says, unless the payment (or the refund) already
        has its outcome: the provider's answer usually comes first."""
        files = self.payments.files
        charge = kind in CHARGE_TYPES
        payment = reference_id(settlement.reference if charge else settlement.charge_reference)
        found = (
            None if payment is None or not files.exists(payment) else files.read(Payment, payment)
        )
        if found is None or payment is None:
            log.warning("payment notification for no payment of this city: %s", settlement.id)
            return
        if charge:
            if found.status is PaymentStatus.PENDING:
                self.payments.settle(payment, settlement)
            return
        refund = reference_id(settlement.reference)
        state = found.refunds.get(refund) if refund else None
        if refund is not None and state is not None and state["status"] == PaymentStatus.PENDING:
            self.payments.record_refund(payment, refund, settlement)


def _parse(body: bytes) -> tuple[str, Settlement]:
    try:
        notice = json.loads(body)
        kind = notice["type"]
        if kind not in CHARGE_TYPES | REFUND_TYPES:
            raise ValueError(kind)
        return kind, Settlement.of(notice["data"])
    except (ValueError, KeyError, TypeError):
        raise NotificationRefused(Refusal.MALFORMED) from None
