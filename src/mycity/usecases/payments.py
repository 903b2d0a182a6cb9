"""Paying: at a shop's till by the payer's city code, and an application's fee; refunds.

Each request is idempotent by its client's key, as Stripe's API is: the payment's id comes
from the requester and the key, so the same request again (or twenty at once) finds the one
payment; another request with that key is `IDEMPOTENCY_KEY_REUSED`; one still being
answered is `IDEMPOTENCY_IN_PROGRESS`. The payment is recorded as requested before the
provider is asked (with the payment's id as the provider's idempotency key, so asking
again never charges twice), and as paid only when the provider says so: in its answer,
in a notification (`PaymentNotices`), or when the sweep asks after it (`PaymentSweep`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from mycity.domain.application import Application
from mycity.domain.application_status import FEE_PAYABLE
from mycity.domain.enterprise import Enterprise
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.fee import Fee, fee_id
from mycity.domain.money import amount_fen, fingerprint, idempotency_key
from mycity.domain.payment import (
    IN_FLIGHT_S,
    Payment,
    PaymentKind,
    PaymentStatus,
    payment_id,
    refund_id,
)
from mycity.domain.scan import parse_place
from mycity.identity.principal import Principal
from mycity.identity.subjects import SubjectIds
from mycity.integrations.payments import (
    PaymentProvider,
    ProviderRefused,
    ProviderUnreachable,
    Settlement,
)
from mycity.policy import payments as policy
from mycity.store.files import CityFiles
from mycity.usecases.scans import Outcome, Scans
from mycity.usecases.tills import Tills
from mycity.verifier.city_code import Purpose

MAX_DESCRIPTION = 128
PROVIDER_BUSY = "idempotency_in_progress"
_CODE_REFUSALS = {
    Outcome.ALREADY_USED: ErrorCode.ALREADY_USED,
    Outcome.EXPIRED: ErrorCode.CODE_EXPIRED,
}


def description_text(value: str, field: str = "description") -> str:
    text = " ".join(value.split())
    if not 1 <= len(text) <= MAX_DESCRIPTION or not text.isprintable():
        raise UserError(
            ErrorCode.INVALID_ARGUMENT,
            f"Describe the payment in 1 to {MAX_DESCRIPTION} printable characters",
            field,
        )
    return text


@dataclass
class Payments:
    files: CityFiles
    provider: PaymentProvider | None
    ids: SubjectIds
    scans: Scans
    tills: Tills
    ceiling_fen: int
    clock: Callable[[], float]

    # -- at the till ----------------------------------------------------------------------

    def charge_by_code(
        self,
        actor: Principal | None,
        payload: str,
        amount: int,
        key: str,
        description: str,
        place: str = "till",
    ) -> tuple[Payment, int]:
        """A merchant charges the payer whose payment code it scanned. The code is spent in
        the payment's own transaction: a replay is ALREADY_USED, and no code is spent for
        a payment that was not recorded."""
        merchant = policy.merchant(actor)
        amount = amount_fen(amount, self.ceiling_fen)
        key = idempotency_key(key)
        text = description_text(description)
        where = parse_place(place)
        provider = self._provider()
        pid = payment_id(merchant.subject, key)
        request = fingerprint(kind="TILL", code=payload, amount=amount, text=text, place=where)
        payee = self.tills.payee_of(merchant)

        made: list[Payment] = []

        def payment(citizen: UUID, told: object) -> list[Payment]:
            made.append(
                self.new(
                    pid, PaymentKind.TILL, citizen, payee.account,
                    payee.name, amount, text, where, "", request, merchant.subject,
                )
            )  # fmt: skip
            return made

        # The same key again collides in the store (the payment's id, and with the same code
        # the scan's): only then is the payment asked for, not before every charge.
        answer = self.scans.scan(merchant, payload, Purpose.PAYMENT, where, payment)
        if not answer.ok:
            if self.files.exists(pid):  # the same key: the same request, or another
                return self._again(pid, request, provider)
            refusal = _CODE_REFUSALS.get(answer.outcome, ErrorCode.CODE_INVALID)
            raise UserError(refusal, f"The payment code was refused: {answer.outcome}", "payload")
        return self.charge(pid, provider, recorded=made[0])

    # -- fees -----------------------------------------------------------------------------

    def pay_fee(
        self, actor: Principal | None, application_id: UUID, key: str
    ) -> tuple[Payment, int]:
        """The applicant (or an agent with the scope) pays the application's fee to its
        department. One payment a fee: another is refused while one is pending or paid."""
        key = idempotency_key(key)
        provider = self._provider()
        application = self.files.get(Application, application_id, "applicationId")
        enterprise = None
        if application.applicant_kind == "ENTERPRISE":
            enterprise = self.files.read(Enterprise, application.applicant)
        by = policy.fee_payer(actor, application, enterprise)
        pid = payment_id(str(by), key)
        request = fingerprint(kind="FEE", application=str(application_id))
        if self.files.exists(pid):
            return self._again(pid, request, provider)
        if application.fee_fen == 0:
            raise UserError(ErrorCode.NO_FEE, "This application has no fee", "applicationId")
        if application.status not in FEE_PAYABLE:
            raise UserError(
                ErrorCode.ILLEGAL_TRANSITION, f"A {application.status} application takes no fee"
            )
        fee = self.files.find(fee_id(application_id))
        if isinstance(fee, Fee):
            current = self.files.read(Payment, fee.payment)
            if current.status is not PaymentStatus.FAILED:
                raise UserError(ErrorCode.ALREADY_PAID, "This fee is paid or being paid")
            fee.restart(payment=pid)
        else:
            fee = Fee(id=fee_id(application_id), application=application_id, payment=pid)  # type: ignore[call-arg]
        payment = self.new(
            pid,
            PaymentKind.FEE,
            application.applicant,
            policy.department_payee(application.department),
            application.department,
            application.fee_fen,
            application.item,
            "",
            str(application_id),
            request,
            str(by),
        )
        try:
            self.files.commit(payment, fee)
        except IntegrityError:  # the same key raced, or another payment of the fee did
            if self.files.exists(pid):
                return self._again(pid, request, provider)
            raise UserError(ErrorCode.ALREADY_PAID, "This fee is paid or being paid") from None
        return self.charge(pid, provider)

    # -- refunds --------------------------------------------------------------------------

    def refund(
        self, actor: Principal | None, payment: UUID, amount: int, key: str, reason: str
    ) -> tuple[Payment, int]:
        """The payee gives back part or all of a payment; the refunds never add up to more
        than was paid, however they race (each is reserved on the payment first)."""
        amount = amount_fen(amount, self.ceiling_fen)
        key = idempotency_key(key)
        why = description_text(reason, "reason") if reason.strip() else ""
        provider = self._provider()
        request = fingerprint(kind="REFUND", amount=amount, reason=why)
        found = self.files.get(Payment, payment, "paymentId")
        by = policy.refunder(actor, found, self.tills.account_of(actor))
        rid = refund_id(payment, by, key)

        def reserve(p: Payment) -> None:
            p.request_refund(rid, amount, why, request, by, self._at())

        self.files.update(Payment, payment, reserve)
        return self.send_refund(payment, rid, provider)

    def send_refund(
        self, payment: UUID, refund: UUID, provider: PaymentProvider | None = None
    ) -> tuple[Payment, int]:
        """Ask the provider for a reserved refund (again, if need be: by its key it moves
        the money once) and record its answer."""
        provider = provider or self._provider()
        found = self.files.read(Payment, payment)
        reserved = found.refunds[refund]
        position = self.files.head()
        if reserved["status"] == PaymentStatus.PENDING:
            try:
                answer = provider.refund(
                    key=str(refund),
                    charge=found.charge,
                    amount_fen=reserved["amount_fen"],
                    reason="",
                    reference=str(refund),
                )
            except (ProviderUnreachable, ProviderRefused):
                return found, position  # still reserved: the sweep asks again
            return self.record_refund(payment, refund, answer)
        return found, position

    def record_refund(self, payment: UUID, refund: UUID, answer: Settlement) -> tuple[Payment, int]:
        """Record what the provider said of a refund (twice is once)."""

        def apply(p: Payment) -> None:
            if answer.status == "succeeded":
                p.refunded(refund, answer.id, answer.settled_at)
            elif answer.status == "failed":
                p.refund_failed(refund, answer.failure)

        position = self.files.update(Payment, payment, apply)
        return self.files.read(Payment, payment), position

    # -- the provider's answers -----------------------------------------------------------

    def charge_again(self, payment: UUID) -> tuple[Payment, int]:
        """Ask the provider after a payment still pending (the sweep's): by its charge if
        it has one, else by asking for it again with the same key."""
        provider = self._provider()
        found = self.files.read(Payment, payment)
        if found.status is not PaymentStatus.PENDING:
            return found, self.files.head()
        if not found.charge:
            return self.charge(payment, provider)
        try:
            answer = provider.get_charge(found.charge)
        except (ProviderUnreachable, ProviderRefused):
            return found, self.files.head()
        return self.settle(payment, answer)

    def settle(
        self, payment: UUID, answer: Settlement, recorded: Payment | None = None
    ) -> tuple[Payment, int]:
        """Record what the provider said of the payment's charge (twice is once). A payment
        `recorded` here a moment ago is changed as it is, unless its file moved on since
        (the provider's notification recorded first): then it is read again."""

        def apply(p: Payment) -> None:
            if answer.status == "succeeded":
                p.succeeded(answer.id, answer.settled_at)
            elif answer.status == "failed":
                p.failed(answer.id, answer.failure)
            else:
                p.submitted(answer.id)

        if recorded is not None:
            apply(recorded)
            try:
                return recorded, self.files.commit(recorded)
            except IntegrityError:
                pass
        position = self.files.update(Payment, payment, apply)
        return self.files.read(Payment, payment), position

    # -- helpers --------------------------------------------------------------------------

    def charge(
        self, pid: UUID, provider: PaymentProvider | None = None, recorded: Payment | None = None
    ) -> tuple[Payment, int]:
        """Ask the provider to charge a recorded payment (again: by its key, once) and
        record its answer; out of reach, the payment stays pending for the sweep. The
        payment just `recorded` here is taken as it is, not read back from the store."""
        provider = provider or self._provider()
        payment = recorded or self.files.read(Payment, pid)
        try:
            answer = provider.charge(
                key=str(pid),
                payer=self.ids.payer(payment.payer),
                payee=payment.payee,
                amount_fen=payment.amount_fen,
                description=payment.description or "",
                reference=str(pid),
            )
        except ProviderUnreachable:
            return payment, self.files.head()  # pending: the sweep asks after it
        except ProviderRefused as e:
            if e.error == PROVIDER_BUSY:
                return payment, self.files.head()
            answer = Settlement("", "failed", e.error or f"refused_{e.status}", 0, "")
        return self.settle(pid, answer, recorded)

    def _again(self, pid: UUID, request: str, provider: PaymentProvider) -> tuple[Payment, int]:
        """The same key again: the same payment, if it is the same request."""
        payment = self.files.read(Payment, pid)
        if payment.request != request:
            raise UserError(
                ErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This idempotency key was used for another request",
                "idempotencyKey",
            )
        if payment.status is PaymentStatus.PENDING and not payment.charge:
            requested = datetime.fromisoformat(payment.requested_at).timestamp()
            if self.clock() - requested < IN_FLIGHT_S:
                raise UserError(
                    ErrorCode.IDEMPOTENCY_IN_PROGRESS,
                    "A request with this idempotency key is still being answered",
                    "idempotencyKey",
                )
            return self.charge(pid, provider)  # its first answer was lost: ask again
        return payment, self.files.head()

    def new(
        self,
        pid: UUID,
        kind: PaymentKind,
        payer: UUID,
        payee: str,
        payee_name: str,
        amount: int,
        description: str,
        place: str,
        paying_for: str,
        request: str,
        by: str,
    ) -> Payment:
        """A payment requested now, to be recorded with whatever starts it."""
        return Payment(  # type: ignore[call-arg]
            id=pid,
            kind=kind.value,
            payer=payer,
            payee=payee,
            payee_name=payee_name,
            amount_fen=amount,
            description=description,
            place=place,
            paying_for=paying_for,
            request=request,
            requested_by=by,
            requested_at=self._at(),
        )

    def _at(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="seconds")

    @property
    def taken(self) -> bool:
        """Whether this city takes payments online (a provider is set)."""
        return self.provider is not None

    def _provider(self) -> PaymentProvider:
        if self.provider is None:
            raise UserError(ErrorCode.SERVICE_UNAVAILABLE, "This city takes no payments online")
        return self.provider
