"""Reads of payments, through the door: the payer's own list, one payment for the payer or
its payee (what was bought shown to the payer only; a payee's read of it is recorded with
its purpose), and a merchant's settlement of a day (no payer in it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from mycity.domain.enterprise import Enterprise
from mycity.domain.errors import Forbidden
from mycity.domain.fee import Fee, fee_id
from mycity.domain.payee_day import PayeeDay
from mycity.domain.payment import Payment, PaymentStatus
from mycity.domain.reconciliation import StatementDay, statement_day_id
from mycity.domain.till import Payee, enterprise_payee
from mycity.identity.principal import Principal, Role
from mycity.policy import payments as policy
from mycity.projections.application_list import ApplicationLists
from mycity.projections.fare_days import FareDayList
from mycity.projections.payment_list import PaymentRow, Payments
from mycity.projections.settlement import DaySettlement, Settlements
from mycity.reads.door import Door
from mycity.store.files import CityFiles

PAYMENT_READ = "payment"
MAX_BILLS = 100  # of each kind owed: a citizen owes far fewer


def payee_party(payee: str) -> UUID:
    """Whom a payee's books are kept on behalf of, for its till's live feed."""
    return uuid5(NAMESPACE_URL, f"mycity:payee:{payee}")


@dataclass(frozen=True)
class Bill:
    """What a citizen owes: an application's fee not yet paid, or a day's fares on credit
    not yet paid."""

    kind: str  # FEE, FARE
    amount_fen: int
    status: str  # UNPAID (nothing asked yet), PENDING, FAILED, OVERDUE
    application: UUID | None = None
    operator: str = ""
    day: str = ""
    payment: UUID | None = None


@dataclass(frozen=True)
class PaymentReads:
    door: Door
    files: CityFiles
    payments: Payments
    settlements: Settlements
    applications: ApplicationLists
    fare_days: FareDayList
    tills: Callable[[Principal], Payee]  # where a merchant's till is paid
    account_of: Callable[[Principal], str | None]  # that account; None for a non-merchant
    read_models = ("payment_list", "settlement", "application_list", "fare_days")

    def mine(
        self,
        principal: Principal,
        enterprise_id: UUID | None,
        kinds: list[str],
        span: tuple[str, str] | None,
        first: int,
        after: str | None,
    ) -> list[PaymentRow]:
        """The citizen's own payments, or an enterprise's they act for in payments, newest
        first, in full."""
        payer = self._payer(principal, enterprise_id)
        return self.payments.of_payer(payer, kinds, span, first, after)

    def bills(self, principal: Principal, enterprise_id: UUID | None) -> list[Bill]:
        """The citizen's own bills (or an enterprise's they act for in payments): fees of
        open applications not paid, and days of fares ridden on credit whose bill is not
        paid; at most `MAX_BILLS` of each kind, counting only what is owed."""
        payer = self._payer(principal, enterprise_id)
        paid = self.payments.rows
        found = [
            bill
            for row in self.applications.unpaid_fees(payer, paid, MAX_BILLS)
            if (bill := self._fee_bill(row.id, row.fee_fen)) is not None
        ]
        for day in self.fare_days.owed(payer, paid, MAX_BILLS):
            status = self._status(day.bill)
            if status != "PAID":
                status = "OVERDUE" if day.overdue else status
                found.append(
                    Bill("FARE", day.deferred_fen, status, None, day.operator, day.day, day.bill)
                )
        return found

    def _fee_bill(self, application: UUID, fee_fen: int) -> Bill | None:
        fee = self.files.find(fee_id(application))
        payment = fee.payment if isinstance(fee, Fee) else None
        status = self._status(payment)
        return (
            None if status == "PAID" else Bill("FEE", fee_fen, status, application, "", "", payment)
        )

    def _status(self, payment: UUID | None) -> str:
        if payment is None:
            return "UNPAID"
        found = self.files.read(Payment, payment)
        if found.status is PaymentStatus.SUCCEEDED:
            return "PAID" if found.refunded_fen == 0 else "UNPAID"
        return found.status.value

    def get(self, principal: Principal, payment_id: UUID, purpose: str | None) -> Payment:
        """One payment as its file holds it now; what was bought is None for anyone but
        the payer."""
        payment = self.files.read(Payment, payment_id, "paymentId")
        enterprise = self.files.find(payment.payer)
        firm = enterprise if isinstance(enterprise, Enterprise) else None
        grant = self.door.enter(
            principal,
            PAYMENT_READ,
            [payment.payer],
            lambda: policy.read_payment(principal, payment, firm, self.account_of(principal)),
            fields=sorted(policy.PAYMENT_FIELDS) if principal.role is Role.CITIZEN else [],
            purpose=purpose,
        )
        if grant.full:
            return payment
        shown = self.files.get(Payment, payment_id, "paymentId")  # a copy to blank
        shown.description = shown.place = None
        return shown

    def settlement(
        self, principal: Principal, day: str, enterprise_id: UUID | None
    ) -> DaySettlement:
        """A merchant's day (its enterprise's, for a till registered for one; for an
        enterprise's agents for payments, by its id), and whether the day was found clean
        against the provider's statement (None: not reconciled yet)."""
        if enterprise_id is None:
            account = self.tills(policy.merchant(principal)).account
        else:
            enterprise = self.files.find(enterprise_id)
            if not isinstance(enterprise, Enterprise):
                raise Forbidden("Not an agent of this enterprise for payments", "enterpriseId")
            policy.settles_for(principal, enterprise)
            account = enterprise_payee(enterprise.credit_code)
        found = self.settlements.of(account, day)
        statement = self.files.find(statement_day_id(day))
        if not isinstance(statement, StatementDay):
            return found
        return replace(found, reconciled=statement.clean)

    def _payer(self, principal: Principal, enterprise_id: UUID | None) -> UUID:
        found = None if enterprise_id is None else self.files.find(enterprise_id)
        if enterprise_id is not None and not isinstance(found, Enterprise):
            raise Forbidden("Not an agent of this enterprise for payments", "enterpriseId")
        return policy.payer(principal, found if isinstance(found, Enterprise) else None)

    def till(self, principal: Principal) -> UUID:
        """The party a merchant's till listens as (`paymentsReceived`)."""
        return payee_party(self.tills(policy.merchant(principal)).account)

    @staticmethod
    def parties(found: Aggregate | None) -> list[UUID]:
        """Whose behalf a file is kept on, if it is a payee's book: the payee's."""
        return [payee_party(found.payee)] if isinstance(found, PayeeDay) else []

    def received(self, principal: Principal, book: UUID, version: int) -> PayeeDay.Received | None:
        """What the merchant's book recorded at that version, if it was a payment received:
        the payment's id (its order number) and amount, no payer."""
        payee = self.tills(policy.merchant(principal)).account
        if self.files.read(PayeeDay, book).payee != payee:
            return None
        found = list(self.files.events.get(book, gt=version - 1, lte=version))
        return found[0] if found and isinstance(found[0], PayeeDay.Received) else None
