"""Who may read an enterprise, act for it, and register one for someone else."""

from __future__ import annotations

from uuid import UUID

from mycity.domain.enterprise import AgentScope, Enterprise
from mycity.domain.errors import Forbidden
from mycity.identity.principal import STAFF_ROLES, Principal, Role
from mycity.policy.base import Grant, require_citizen

# What the enterprise's profile shows (its phone masked), and of each of its people.
PROFILE = frozenset({"credit_code", "name", "phone_masked", "address", "agents"})
PEOPLE = frozenset({"name", "id_number_masked"})
# What a person invited to act for an enterprise is shown of it, before they answer.
INVITATION = frozenset({"credit_code", "name"})


def read_enterprise(principal: Principal, members: frozenset[UUID]) -> Grant:
    """Staff, or one of the enterprise's people: its legal representative and agents. What
    it shows of its people is masked for everyone (a person summary)."""
    if principal.role in STAFF_ROLES or principal.citizen_id in members:
        return Grant()
    raise Forbidden("Not your enterprise")


def read_invitation(principal: Principal, invitee: UUID) -> Grant:
    """An invitation is read by the person invited, and only by them."""
    if principal.citizen_id != invitee:
        raise Forbidden("Not your invitation")
    return Grant()


def require_scope(principal: Principal, enterprise: Enterprise, scope: AgentScope) -> UUID:
    """An agent acts only for their own enterprise and within their scopes."""
    citizen_id = require_citizen(principal)
    if not enterprise.may(citizen_id, scope):
        raise Forbidden(f"Needs the {scope.value} scope for this enterprise")
    return citizen_id


def require_legal_representative(principal: Principal, enterprise: Enterprise) -> UUID:
    """Only the legal representative manages the enterprise's agents (the file's own rule,
    asked before anything else is looked up)."""
    citizen_id = require_citizen(principal)
    enterprise.require_legal_representative(citizen_id)
    return citizen_id


def can_register_for_others(principal: Principal) -> bool:
    return principal.role in (Role.OFFICER, Role.ADMIN)
