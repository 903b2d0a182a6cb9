"""Who moves money and who sees it: a merchant charges for itself and refunds only its own
payments; a payer sees their own payments; an officer refunds a fee of their department
and reads others' payments only with a purpose, recorded through the door."""

from __future__ import annotations

from uuid import UUID

from mycity.domain.application import Application
from mycity.domain.enterprise import AgentScope, Enterprise
from mycity.domain.errors import Forbidden
from mycity.domain.payment import Payment, PaymentKind
from mycity.identity.principal import Principal, Role
from mycity.policy.base import Grant, require, require_citizen, require_role

FEE_PAYEE = "dept:"
PAYMENT_FIELDS = frozenset({"description", "place"})


def merchant(principal: Principal | None) -> Principal:
    return require_role(principal, Role.MERCHANT)


def department_payee(department: str) -> str:
    return FEE_PAYEE + department


def fee_payer(
    principal: Principal | None, application: Application, enterprise: Enterprise | None
) -> UUID:
    """The applicant pays its fee, or, for an enterprise, an agent with the PAYMENTS scope
    (its legal representative has every scope)."""
    by = require_citizen(principal)
    if by == application.applicant:
        return by
    if enterprise is not None and enterprise.may(by, AgentScope.PAYMENTS):
        return by
    raise Forbidden("Only the applicant, or its agent for payments, pays this fee")


def refunder(principal: Principal | None, payment: Payment, account: str | None) -> str:
    """Whoever may refund the payment: a till of the merchant it paid (`account`: the
    account a merchant's charges are paid into), or an officer of the department whose fee
    it paid."""
    who = require(principal)
    if who.role is Role.MERCHANT and payment.payee == account:
        return who.subject
    if (
        who.role is Role.OFFICER
        and payment.kind is PaymentKind.FEE
        and who.department
        and payment.payee == department_payee(who.department)
    ):
        return who.subject
    raise Forbidden("Only the payee refunds a payment")


def settles_for(principal: Principal | None, enterprise: Enterprise) -> None:
    """An enterprise's settlement is read by its legal representative and its agents with
    the PAYMENTS scope."""
    if not enterprise.may(require_citizen(principal), AgentScope.PAYMENTS):
        raise Forbidden("Not an agent of this enterprise for payments", "enterpriseId")


def payer(principal: Principal | None, enterprise: Enterprise | None) -> UUID:
    """Whose payments the caller reads: their own, or an enterprise's they act for in
    payments (its legal representative, or an agent with the PAYMENTS scope)."""
    by = require_citizen(principal)
    if enterprise is None:
        return by
    if enterprise.may(by, AgentScope.PAYMENTS):
        return enterprise.id
    raise Forbidden("Not an agent of this enterprise for payments", "enterpriseId")


def read_payment(
    principal: Principal | None,
    payment: Payment,
    payer_enterprise: Enterprise | None,
    account: str | None,
) -> Grant:
    """The payer reads their payment in full (an enterprise's, its agents for payments);
    the payee (a till of the merchant paid: `account`, or an officer of the department a fee
    went to) reads it without what was bought; nobody else."""
    who = require(principal)
    if who.citizen_id is not None and who.citizen_id == payment.payer:
        return Grant(PAYMENT_FIELDS)
    if (
        who.citizen_id is not None
        and payer_enterprise is not None
        and payer_enterprise.may(who.citizen_id, AgentScope.PAYMENTS)
    ):
        return Grant(PAYMENT_FIELDS)
    if who.role is Role.MERCHANT and payment.payee == account:
        return Grant()
    if (
        who.role is Role.OFFICER
        and who.department
        and payment.payee == department_payee(who.department)
    ):
        return Grant()
    raise Forbidden("Not your payment")
