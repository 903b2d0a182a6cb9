"""Authorisation: the one place that says which role may see or do what.

Each rule is a small function of the principal and the subject, asked by the GraphQL
layer and the application services. Rules that are facts of a file (only an enterprise's
legal representative manages its agents) live on the aggregate itself.
"""

from __future__ import annotations

from uuid import UUID

from mycity.domain.enterprise import AgentScope, Enterprise
from mycity.domain.errors import Forbidden, Unauthenticated
from mycity.identity.principal import STAFF_ROLES, Principal, Role

# Roles that see a citizen's full ID number and phone, besides the citizen themself.
UNMASKED_IDENTIFIER_ROLES = frozenset({Role.OFFICER, Role.ADMIN})


def require(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthenticated()
    return principal


def require_role(principal: Principal | None, *roles: Role) -> Principal:
    who = require(principal)
    if who.role not in roles:
        raise Forbidden(f"Needs the role {' or '.join(r.value for r in roles)}")
    return who


def require_citizen(principal: Principal | None) -> UUID:
    who = require_role(principal, Role.CITIZEN)
    assert who.citizen_id is not None
    return who.citizen_id


def can_read_citizen(principal: Principal, citizen_id: UUID) -> bool:
    """A citizen reads their own file; staff read any file."""
    return principal.citizen_id == citizen_id or principal.role in STAFF_ROLES


def sees_full_identifiers(principal: Principal, citizen_id: UUID) -> bool:
    """ID numbers and phones are masked unless the reader is the person or needs them."""
    return principal.citizen_id == citizen_id or principal.role in UNMASKED_IDENTIFIER_ROLES


def can_read_enterprise(principal: Principal, member_ids: set[UUID]) -> bool:
    """Staff, or one of the enterprise's people: its legal representative and agents."""
    return principal.role in STAFF_ROLES or principal.citizen_id in member_ids


def require_enterprise_scope(
    principal: Principal, enterprise: Enterprise, scope: AgentScope
) -> UUID:
    """An agent acts only for their own enterprise and within their scopes."""
    citizen_id = require_citizen(principal)
    if not enterprise.may(citizen_id, scope):
        raise Forbidden(f"Needs the {scope.value} scope for this enterprise")
    return citizen_id


def can_verify_in_person(principal: Principal) -> bool:
    return principal.role is Role.OFFICER


def can_register_enterprise_for_others(principal: Principal) -> bool:
    return principal.role in (Role.OFFICER, Role.ADMIN)


def can_search_directory(principal: Principal) -> bool:
    return principal.role in STAFF_ROLES
