"""What every capability's rules share: who is calling, and what a read may show."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from mycity.domain.errors import Forbidden, Unauthenticated
from mycity.identity.principal import Principal, Role


@dataclass(frozen=True)
class Grant:
    """A read the policy allows: which personal fields it may show in full (the rest are
    shown masked)."""

    full: frozenset[str] = frozenset()

    def shows(self, field: str) -> bool:
        return field in self.full


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
