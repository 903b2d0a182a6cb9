"""A payment (统一支付) on its payer's behalf: requested by the city, then succeeded or failed
as the provider says (never paid before the provider says the money arrived), then perhaps
refunded, in parts, never beyond what was paid.

Its id comes from who asked and their idempotency key, so a request sent again, or twenty
at once, creates one payment: the others collide in the store and find it. A refund is
reserved on the payment before the provider is asked, so two refunds that race are decided
one after the other by the payment's version: together they never exceed it.

What was bought and where are the payer's service activity, sealed under their key: when
the account closes they go, and the payee's amounts stay.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.personal import Kind, Retention, not_personal, personal

IN_FLIGHT_S = 30  # a request this young with no answer yet is still being answered


class PaymentKind(StrEnum):
    FEE = "FEE"  # an application's fee, to its department
    TILL = "TILL"  # at a shop's till, by the payer's city code (付款码)
    FARE = "FARE"  # a transit fare, to its operator


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


def payment_id(requester: str, key: str) -> UUID:
    """One payment per requester and idempotency key."""
    return uuid5(NAMESPACE_URL, f"mycity:payment:{requester}:{key}")


def refund_id(payment: UUID, requester: str, key: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"mycity:refund:{payment}:{requester}:{key}")


def reference_id(reference: str) -> UUID | None:
    """The payment or refund a provider's `reference` names (the city gives its id), or
    None for one that names nothing of the city's."""
    try:
        return UUID(reference)
    except ValueError:
        return None


class Refund(TypedDict):
    """A refund as the payment holds it: plain data, so a snapshot stores it."""

    amount_fen: int
    request: str
    status: str  # a PaymentStatus
    failure: str


@personal(
    subject="payer", retention=Retention.SERVICE_ACTIVITY, description=Kind.TEXT, place=Kind.TEXT
)
class Payment(Aggregate):
    id: UUID

    @not_personal(
        "kind",
        "payer",
        "payee",
        "payee_name",
        "amount_fen",
        "paying_for",
        "request",
        "requested_by",
        "requested_at",
    )
    @personal(
        subject="payer",
        retention=Retention.SERVICE_ACTIVITY,
        description=Kind.TEXT,
        place=Kind.TEXT,
    )
    class Requested(Aggregate.Created):
        kind: str
        payer: UUID  # whose money: a citizen's or an enterprise's file
        payee: str  # the payee's account at the provider: `dept:MCA`, `merchant:<client>`
        payee_name: str
        amount_fen: int
        description: str  # what it pays for, as the payee put it
        place: str  # where (a till, a gate); "" for a fee
        paying_for: str  # the application it pays the fee of; "" otherwise
        request: str  # the request's fingerprint (money.fingerprint)
        requested_by: str  # the caller's subject: whose idempotency key it was
        requested_at: str  # ISO 8601, UTC

    @not_personal("charge")
    class Submitted(Aggregate.Event):
        charge: str  # the provider's charge, which has not settled yet

    @not_personal("charge", "kind", "payee", "amount_fen", "settled_at")
    class Succeeded(Aggregate.Event):
        charge: str
        kind: str  # the payee's side follows these three and needs nothing else
        payee: str
        amount_fen: int
        settled_at: str

    @not_personal("charge", "failure")
    class Failed(Aggregate.Event):
        charge: str
        failure: str  # the provider's reason: insufficient_funds, unknown_payer, …

    @not_personal("refund", "amount_fen", "reason", "request", "requested_by", "requested_at")
    class RefundRequested(Aggregate.Event):
        refund: UUID
        amount_fen: int
        reason: str  # the payee's or the officer's words, in their office
        request: str
        requested_by: str
        requested_at: str

    @not_personal("refund", "provider_refund", "kind", "payee", "amount_fen", "settled_at")
    class Refunded(Aggregate.Event):
        refund: UUID
        provider_refund: str
        kind: str
        payee: str
        amount_fen: int
        settled_at: str

    @not_personal("refund", "failure")
    class RefundFailed(Aggregate.Event):
        refund: UUID
        failure: str

    @event(Requested)
    def __init__(
        self,
        kind: str,
        payer: UUID,
        payee: str,
        payee_name: str,
        amount_fen: int,
        description: str | None,  # None: read after the payer's erasure
        place: str | None,
        paying_for: str,
        request: str,
        requested_by: str,
        requested_at: str,
    ) -> None:
        self.kind = PaymentKind(kind)
        self.payer = payer
        self.payee = payee
        self.payee_name = payee_name
        self.amount_fen = amount_fen
        self.description = description
        self.place = place
        self.paying_for = paying_for
        self.request = request
        self.requested_by = requested_by
        self.requested_at = requested_at
        self.status = PaymentStatus.PENDING
        self.charge = ""
        self.failure = ""
        self.settled_at = ""
        self.refunds: dict[UUID, Refund] = {}

    # -- the provider's word --------------------------------------------------------------

    def submitted(self, charge: str) -> None:
        """The provider took the charge and will settle it later."""
        if self.status is PaymentStatus.PENDING and not self.charge:
            self._submitted(charge=charge)

    @event(Submitted)
    def _submitted(self, charge: str) -> None:
        self.charge = charge

    def succeeded(self, charge: str, settled_at: str) -> bool:
        """Record the money arrived; False if it was recorded already (a notification and
        the answer, or a retry, say it twice)."""
        if self.status is not PaymentStatus.PENDING:
            return False
        self._succeeded(
            charge=charge,
            kind=self.kind.value,
            payee=self.payee,
            amount_fen=self.amount_fen,
            settled_at=settled_at,
        )
        return True

    @event(Succeeded)
    def _succeeded(
        self, charge: str, kind: str, payee: str, amount_fen: int, settled_at: str
    ) -> None:
        self.status = PaymentStatus.SUCCEEDED
        self.charge = charge
        self.settled_at = settled_at

    def failed(self, charge: str, failure: str) -> bool:
        if self.status is not PaymentStatus.PENDING:
            return False
        self._failed(charge=charge, failure=failure)
        return True

    @event(Failed)
    def _failed(self, charge: str, failure: str) -> None:
        self.status = PaymentStatus.FAILED
        self.charge = charge
        self.failure = failure

    # -- refunds --------------------------------------------------------------------------

    @property
    def refundable_fen(self) -> int:
        """What may still be refunded: the amount less every refund not failed."""
        if self.status is not PaymentStatus.SUCCEEDED:
            return 0
        reserved = sum(
            r["amount_fen"] for r in self.refunds.values() if r["status"] != PaymentStatus.FAILED
        )
        return self.amount_fen - reserved

    @property
    def refunded_fen(self) -> int:
        return sum(
            r["amount_fen"] for r in self.refunds.values() if r["status"] == PaymentStatus.SUCCEEDED
        )

    def request_refund(
        self, refund: UUID, amount_fen: int, reason: str, request: str, by: str, at: str
    ) -> Refund:
        """Reserve a refund, or find the one this key asked for before."""
        earlier = self.refunds.get(refund)
        if earlier is not None:
            if earlier["request"] != request:
                raise UserError(
                    ErrorCode.IDEMPOTENCY_KEY_REUSED,
                    "This idempotency key was used for another refund",
                    "idempotencyKey",
                )
            return earlier
        if self.status is not PaymentStatus.SUCCEEDED:
            raise UserError(ErrorCode.PAYMENT_NOT_SUCCEEDED, "Only a paid payment is refunded")
        if amount_fen > self.refundable_fen:
            raise UserError(
                ErrorCode.REFUND_EXCEEDS_PAYMENT,
                f"At most {self.refundable_fen} fen of this payment can still be refunded",
                "amountFen",
            )
        self._refund_requested(
            refund=refund,
            amount_fen=amount_fen,
            reason=reason,
            request=request,
            requested_by=by,
            requested_at=at,
        )
        return self.refunds[refund]

    @event(RefundRequested)
    def _refund_requested(
        self,
        refund: UUID,
        amount_fen: int,
        reason: str,
        request: str,
        requested_by: str,
        requested_at: str,
    ) -> None:
        self.refunds[refund] = Refund(
            amount_fen=amount_fen, request=request, status=PaymentStatus.PENDING.value, failure=""
        )

    def refunded(self, refund: UUID, provider_refund: str, settled_at: str) -> None:
        if self.refunds[refund]["status"] == PaymentStatus.PENDING:
            self._refunded(
                refund=refund,
                provider_refund=provider_refund,
                kind=self.kind.value,
                payee=self.payee,
                amount_fen=self.refunds[refund]["amount_fen"],
                settled_at=settled_at,
            )

    @event(Refunded)
    def _refunded(
        self,
        refund: UUID,
        provider_refund: str,
        kind: str,
        payee: str,
        amount_fen: int,
        settled_at: str,
    ) -> None:
        self.refunds[refund]["status"] = PaymentStatus.SUCCEEDED.value

    def refund_failed(self, refund: UUID, failure: str) -> None:
        if self.refunds[refund]["status"] == PaymentStatus.PENDING:
            self._refund_failed(refund=refund, failure=failure)

    @event(RefundFailed)
    def _refund_failed(self, refund: UUID, failure: str) -> None:
        self.refunds[refund]["status"] = PaymentStatus.FAILED.value
        self.refunds[refund]["failure"] = failure
