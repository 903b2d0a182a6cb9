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
MERCHANT_PAYEE = "merchant:"
PAYMENT_FIELDS = frozenset({"description", "place"})


def merchant(principal: Principal | None) -> Principal:
    return require_role(principal, Role.MERCHANT)


def merchant_payee(who: Principal) -> str:
    """The merchant's account at the provider."""
    return MERCHANT_PAYEE + who.subject


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


def refunder(principal: Principal | None, payment: Payment) -> str:
    """Whoever may refund the payment: the merchant it paid, or an officer of the department
    whose fee it paid."""
    who = require(principal)
    if who.role is Role.MERCHANT and payment.payee == merchant_payee(who):
        return who.subject
    if (
        who.role is Role.OFFICER
        and payment.kind is PaymentKind.FEE
        and who.department
        and payment.payee == department_payee(who.department)
    ):
        return who.subject
    raise Forbidden("Only the payee refunds a payment")


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
    principal: Principal | None, payment: Payment, payer_enterprise: Enterprise | None
) -> Grant:
    """The payer reads their payment in full (an enterprise's, its agents for payments);
    the payee (a merchant, or an officer of the department a fee went to) reads it without
    what was bought; nobody else."""
    who = require(principal)
    if who.citizen_id is not None and who.citizen_id == payment.payer:
        return Grant(PAYMENT_FIELDS)
    if (
        who.citizen_id is not None
        and payer_enterprise is not None
        and payer_enterprise.may(who.citizen_id, AgentScope.PAYMENTS)
    ):
        return Grant(PAYMENT_FIELDS)
    if who.role is Role.MERCHANT and payment.payee == merchant_payee(who):
        return Grant()
    if (
        who.role is Role.OFFICER
        and who.department
        and payment.payee == department_payee(who.department)
    ):
        return Grant()
    raise Forbidden("Not your payment")
