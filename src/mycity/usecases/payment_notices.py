"""The provider's notifications (docs/payments.md §3): signed the Standard Webhooks way
with Ed25519 (`v1a`), fresh within five minutes, and each id accepted once.

A notification only tells the city what it could ask: it is recorded as the provider's
answer would be (twice is once). Its id is remembered as it is taken, and let go again if
recording it fails, so the provider's retry is not taken for a replay. Ids are kept ten
minutes, longer than a signature stays fresh: an older replay is refused as stale.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mycity.domain.errors import UserError
from mycity.domain.payment import Payment, PaymentStatus, reference_id
from mycity.integrations.payments import Settlement
from mycity.integrations.webhooks import NotificationRefused, Refusal, verify
from mycity.store.sql import Database
from mycity.usecases.payments import Payments

log = logging.getLogger(__name__)

KEPT_S = 600  # how long an accepted id is remembered
PRUNE_EVERY_S = 60  # ids older than KEPT_S are let go this often
CHARGE_TYPES = frozenset({"charge.succeeded", "charge.failed"})
REFUND_TYPES = frozenset({"refund.succeeded", "refund.failed"})
OUTCOMES = (Payment.Succeeded, Payment.Failed)  # a charge's: once recorded, nothing to add
# How an id is kept, by dialect: on PostgreSQL without a WAL flush of its own (a replay
# guard over recording that is idempotent is not worth one), set in the statement itself.
KEEPING = {
    "postgres": (
        "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) ",
        "SELECT ?, ? FROM relaxed",
    ),
    "sqlite": ("", "VALUES (?, ?)"),
}


@dataclass
class PaymentNotices:
    db: Database
    payments: Payments
    keys: list[Ed25519PublicKey]
    clock: Callable[[], float]

    def __post_init__(self) -> None:
        self.table = self.db.table("payment_notifications")
        self._pruned_at = float("-inf")

    def create_tables(self) -> None:
        self.db.create_tables(
            [
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                "webhook_id TEXT PRIMARY KEY, received_at DOUBLE PRECISION NOT NULL)",
                f"CREATE INDEX IF NOT EXISTS payment_notifications_received "
                f"ON {self.table} (received_at)",
            ]
        )

    def receive(self, headers: Mapping[str, str], body: bytes) -> None:
        """Verify and record a notification; NotificationRefused says why not (logged by
        its kind and id, never its body)."""
        lowered = {k.lower(): v for k, v in headers.items()}
        now = self.clock()
        try:
            verified = verify(self.keys, lowered, body, now)
            kind, settlement = _parse(body)
            if not self._remember(verified.message_id, now):
                raise NotificationRefused(Refusal.REPLAYED)
        except NotificationRefused as e:
            log.warning(
                "payment notification refused: %s (webhook-id %r)",
                e.refusal.value,
                lowered.get("webhook-id", "")[:64],
            )
            raise
        try:
            self._record(kind, settlement)
        except BaseException:  # not recorded: its retry must not be taken for a replay
            self._forget(verified.message_id)
            raise

    def _remember(self, message_id: str, now: float) -> bool:
        """Keep the id; False if it was kept already (and is not older than KEPT_S). One
        statement (and once a minute the prune): an id kept longer than promised and not
        yet pruned is a new delivery."""
        if now - self._pruned_at > PRUNE_EVERY_S:
            with self.db.single() as cur:
                cur.execute(f"DELETE FROM {self.table} WHERE received_at < ?", [now - KEPT_S])
            self._pruned_at = now
        with self.db.single() as cur:
            head, row = KEEPING[cur.dialect]
            kept = cur.execute(
                f"{head}INSERT INTO {self.table} AS kept (webhook_id, received_at) {row} "
                "ON CONFLICT (webhook_id) DO UPDATE SET received_at = excluded.received_at "
                "WHERE kept.received_at < ? RETURNING webhook_id",
                [message_id, now, now - KEPT_S],
            ).fetchone()
        return kept is not None

    def _forget(self, message_id: str) -> None:
        with self.db.single() as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE webhook_id = ?", [message_id])

    def _record(self, kind: str, settlement: Settlement) -> None:
        """Record what the notification says, unless the payment (or the refund) already
        has its outcome: the provider's answer usually comes first. A charge's outcome is
        asked of the log, without reading the payment."""
        charge = kind in CHARGE_TYPES
        payment = reference_id(settlement.reference if charge else settlement.charge_reference)
        if charge and payment and self.payments.files.holds(self.db, payment, OUTCOMES):
            return
        found = None if payment is None else self._payment(payment)
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

    def _payment(self, payment: UUID) -> Payment | None:
        """The payment, read once (asked whether it exists first, it was loaded twice)."""
        try:
            return self.payments.files.read(Payment, payment)
        except UserError:  # no payment of this city
            return None


def _parse(body: bytes) -> tuple[str, Settlement]:
    try:
        notice = json.loads(body)
        kind = notice["type"]
        if kind not in CHARGE_TYPES | REFUND_TYPES:
            raise ValueError(kind)
        return kind, Settlement.of(notice["data"])
    except (ValueError, KeyError, TypeError):
        raise NotificationRefused(Refusal.MALFORMED) from None
