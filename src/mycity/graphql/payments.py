"""Payments (统一支付): at the till by the payer's city code, an application's fee, refunds;
the payer's list and a merchant's settlement."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo

import strawberry
from strawberry import relay

from mycity.domain.errors import ErrorCode
from mycity.domain.errors import UserError as DomainUserError
from mycity.domain.payee_day import PayeeDay
from mycity.domain.payment import Payment as PaymentFile
from mycity.domain.payment import PaymentKind, PaymentStatus
from mycity.graphql.context import PURPOSE, Info, blocking
from mycity.graphql.errors import UserError, parse_id, reports_user_errors
from mycity.graphql.pagination import Connection, check_first, keyed_page, keyset
from mycity.projections.payment_list import PaymentRow
from mycity.projections.settlement import DaySettlement
from mycity.reads.payments import Bill as OwedBill

PaymentKindType = strawberry.enum(PaymentKind, name="PaymentKind")
PaymentStatusType = strawberry.enum(PaymentStatus, name="PaymentStatus")


def _moment(text: str) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


@strawberry.type(description="A payment; amounts in fen (分), CNY.")
class Payment:
    id: relay.GlobalID = strawberry.field(description="Also the merchant's order number.")
    kind: PaymentKindType  # type: ignore[valid-type]
    status: PaymentStatusType  # type: ignore[valid-type]
    amount_fen: int
    refunded_fen: int
    payee_name: str
    description: str | None = strawberry.field(description="The payer's alone; null once erased.")
    failure: str | None = strawberry.field(description="The provider's reason, when failed.")
    application_id: relay.GlobalID | None = strawberry.field(description="The fee's application.")
    requested_at: dt.datetime
    settled_at: dt.datetime | None

    @classmethod
    def of(cls, payment: PaymentFile) -> Payment:
        return cls(
            id=relay.GlobalID("Payment", str(payment.id)),
            kind=payment.kind,
            status=payment.status,
            amount_fen=payment.amount_fen,
            refunded_fen=payment.refunded_fen,
            payee_name=payment.payee_name,
            description=payment.description,
            failure=payment.failure or None,
            application_id=_application(payment.paying_for),
            requested_at=dt.datetime.fromisoformat(payment.requested_at),
            settled_at=_moment(payment.settled_at),
        )

    @classmethod
    def of_row(cls, row: PaymentRow) -> Payment:
        return cls(
            id=relay.GlobalID("Payment", str(row.id)),
            kind=PaymentKind(row.kind),
            status=PaymentStatus(row.status),
            amount_fen=row.amount_fen,
            refunded_fen=row.refunded_fen,
            payee_name=row.payee_name,
            description=row.description,
            failure=row.failure or None,
            application_id=_application(row.paying_for),
            requested_at=row.requested_at,
            settled_at=row.settled_at,
        )


def _span(since: dt.date | None, until: dt.date | None, zone: ZoneInfo) -> tuple[str, str] | None:
    """The days [since, until] as moments in UTC, as payments record them."""
    if since is None and until is None:
        return None
    first = since or dt.date(1970, 1, 1)
    last = until or dt.date(9998, 12, 31)
    if first > last:
        raise DomainUserError(ErrorCode.INVALID_ARGUMENT, "since is after until", "since")

    def moment(day: dt.date) -> str:
        start = dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
        return start.isoformat(timespec="seconds")

    return moment(first), moment(last + dt.timedelta(days=1))


def _enterprise(gid: relay.GlobalID | None) -> UUID | None:
    return None if gid is None else parse_id(gid, "Enterprise", "enterpriseId")


def _application(paying_for: str) -> relay.GlobalID | None:
    return relay.GlobalID("Application", paying_for) if paying_for else None


@strawberry.type(description="A merchant's day: what it received and refunded.")
class MerchantSettlement:
    date: dt.date
    payments: int
    received_fen: int
    refunds: int
    refunded_fen: int
    net_fen: int
    reconciled: bool | None = strawberry.field(
        description="Against the provider's statement: null until reconciled, then clean or not."
    )

    @classmethod
    def of(cls, day: DaySettlement) -> MerchantSettlement:
        return cls(
            date=dt.date.fromisoformat(day.day),
            payments=day.payments,
            received_fen=day.received_fen,
            refunds=day.refunds,
            refunded_fen=day.refunded_fen,
            net_fen=day.net_fen,
            reconciled=day.reconciled,
        )


@strawberry.type(description="A payment to the merchant, as its till is told: no payer.")
class PaymentReceived:
    payment_id: relay.GlobalID = strawberry.field(description="The order number.")
    kind: PaymentKindType  # type: ignore[valid-type]
    amount_fen: int
    settled_at: dt.datetime

    @classmethod
    def of(cls, event: PayeeDay.Received) -> PaymentReceived:
        return cls(
            payment_id=relay.GlobalID("Payment", str(event.payment)),
            kind=PaymentKind(event.kind),
            amount_fen=event.amount_fen,
            settled_at=dt.datetime.fromisoformat(event.settled_at),
        )


@strawberry.type(description="What the citizen owes: a fee, or a day's fares on credit.")
class Bill:
    kind: PaymentKindType  # type: ignore[valid-type]
    amount_fen: int
    status: str = strawberry.field(description="UNPAID, PENDING, FAILED or OVERDUE.")
    application_id: relay.GlobalID | None
    operator: str | None = strawberry.field(description="A fare's transit operator.")
    day: dt.date | None = strawberry.field(description="A fare's day.")
    payment_id: relay.GlobalID | None

    @classmethod
    def of(cls, bill: OwedBill) -> Bill:
        return cls(
            kind=PaymentKind(bill.kind),
            amount_fen=bill.amount_fen,
            status=bill.status,
            application_id=_application(str(bill.application) if bill.application else ""),
            operator=bill.operator or None,
            day=dt.date.fromisoformat(bill.day) if bill.day else None,
            payment_id=relay.GlobalID("Payment", str(bill.payment)) if bill.payment else None,
        )


@strawberry.input
class ChargeByCodeInput:
    payload: str = strawberry.field(description="The payer's payment code as read (MC1:…).")
    amount_fen: int = strawberry.field(description="1 fen to the city's ceiling.")
    idempotency_key: str = strawberry.field(description="8-64 of A-Z a-z 0-9 _ -.")
    description: str = strawberry.field(description="What is paid for, 1-128 characters.")
    place: str = strawberry.field(default="till", description="Which till, 1-64 characters.")


@strawberry.input
class PayApplicationFeeInput:
    application_id: relay.GlobalID
    idempotency_key: str


@strawberry.input
class RefundPaymentInput:
    payment_id: relay.GlobalID
    amount_fen: int
    idempotency_key: str
    reason: str | None = None


@strawberry.type
class PaymentPayload:
    """The payment as recorded: SUCCEEDED only once the provider said the money arrived."""

    payment: Payment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PaymentQueries:
    @strawberry.field(
        description="The caller's payments (or an enterprise's they act for in payments), "
        "newest first; of these kinds, requested from the day `since` to the day `until` "
        "(both included, the city's days), if given."
    )
    async def my_payments(
        self,
        info: Info,
        enterprise_id: relay.GlobalID | None = None,
        kinds: list[PaymentKindType] | None = None,  # type: ignore[valid-type]
        since: dt.date | None = None,
        until: dt.date | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Payment]:
        context = info.context
        zone = ZoneInfo(context.city.settings.services.timezone)
        found = await context.read(
            context.city.reads.payments.mine,
            context.require(),
            _enterprise(enterprise_id),
            [PaymentKind(k).value for k in kinds or ()],
            _span(since, until, zone),
            check_first(first),
            keyset(after),
        )
        return keyed_page([(r.cursor, Payment.of_row(r)) for r in found], first, after)

    @strawberry.field(
        description="What the caller (or an enterprise they act for in payments) owes: fees "
        "unpaid, fares on credit unpaid."
    )
    async def my_bills(self, info: Info, enterprise_id: relay.GlobalID | None = None) -> list[Bill]:
        context = info.context
        found = await context.read(
            context.city.reads.payments.bills, context.require(), _enterprise(enterprise_id)
        )
        return [Bill.of(b) for b in found]

    @strawberry.field(description="One payment: its payer, or its payee with a purpose.")
    async def payment(
        self, info: Info, id: relay.GlobalID, purpose: Annotated[str | None, PURPOSE] = None
    ) -> Payment:
        context = info.context
        found = await context.read(
            context.city.reads.payments.get,
            context.require(),
            parse_id(id, "Payment", "id"),
            purpose,
        )
        return Payment.of(found)

    @strawberry.field(
        description="A merchant's settlement of one day (the city's day): its till's own, or "
        "with enterpriseId, an enterprise's for its agents for payments."
    )
    async def merchant_settlement(
        self, info: Info, date: dt.date, enterprise_id: relay.GlobalID | None = None
    ) -> MerchantSettlement:
        context = info.context
        day = await context.read(
            context.city.reads.payments.settlement,
            context.require(),
            date.isoformat(),
            _enterprise(enterprise_id),
        )
        return MerchantSettlement.of(day)


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(description="A merchant charges the payer whose payment code it read.")
    @reports_user_errors(PaymentPayload)
    async def charge_by_code(self, info: Info, input: ChargeByCodeInput) -> PaymentPayload:
        payment, position = await blocking(
            info.context.city.payments.charge_by_code,
            info.context.principal,
            input.payload,
            input.amount_fen,
            input.idempotency_key,
            input.description,
            input.place,
        )
        info.context.wrote(position)
        return PaymentPayload(payment=Payment.of(payment))

    @strawberry.mutation(description="The applicant pays an application's fee.")
    @reports_user_errors(PaymentPayload)
    async def pay_application_fee(
        self, info: Info, input: PayApplicationFeeInput
    ) -> PaymentPayload:
        payment, position = await blocking(
            info.context.city.payments.pay_fee,
            info.context.require(),
            parse_id(input.application_id, "Application", "applicationId"),
            input.idempotency_key,
        )
        info.context.wrote(position)
        return PaymentPayload(payment=Payment.of(payment))

    @strawberry.mutation(description="The payee refunds part or all of a payment.")
    @reports_user_errors(PaymentPayload)
    async def refund_payment(self, info: Info, input: RefundPaymentInput) -> PaymentPayload:
        payment, position = await blocking(
            info.context.city.payments.refund,
            info.context.principal,
            parse_id(input.payment_id, "Payment", "paymentId"),
            input.amount_fen,
            input.idempotency_key,
            input.reason or "",
        )
        info.context.wrote(position)
        return PaymentPayload(payment=Payment.of(payment))


@strawberry.type
class PaymentSubscriptions:
    @strawberry.subscription(description="A merchant's till: each payment to it as it succeeds.")
    async def payments_received(self, info: Info) -> AsyncGenerator[PaymentReceived, None]:
        context = info.context
        principal = context.require()
        reads = context.city.reads.payments
        party = reads.till(principal)
        async for change in context.while_signed_in(context.feed.on_behalf_of(party)):
            if change.event != "PayeeDay.Received":
                continue
            book = parse_id(change.file_id, "PayeeDay", "fileId")
            found = await blocking(reads.received, principal, book, change.version)
            if found is not None:
                yield PaymentReceived.of(found)
