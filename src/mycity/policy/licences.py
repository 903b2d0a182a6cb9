"""Who may check a licence presentation: partners (a hotel at check-in, a shop) and
officers (a traffic police check, 道路查验). They see what the holder chose to reveal, in
full: the choice is the holder's."""

from __future__ import annotations

from mycity.identity.principal import Principal, Role
from mycity.policy.base import Grant, require_role

VERIFIERS = (Role.VENUE, Role.MERCHANT, Role.OFFICER)


def require_verifier(principal: Principal | None) -> Principal:
    return require_role(principal, *VERIFIERS)


def verify_presentation(principal: Principal | None, disclosed: list[str]) -> Grant:
    require_verifier(principal)
    return Grant(full=frozenset(disclosed))
