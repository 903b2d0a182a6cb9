"""Who feeds the city code: the health authority sets colours; each institution links and
unlinks the cards it issues.

Both act through their feeds: `AUTHORITY_FEED` clients, told apart by their `department`.
A venue (a hospital's or a library's desk, a transit gate) only scans codes: changing what
a citizen holds is left to the institution's feed, so a venue is refused like anyone else.
"""

from __future__ import annotations

from collections.abc import Mapping

from mycity.domain.code_holder import CardKind
from mycity.domain.errors import Forbidden
from mycity.identity.principal import Principal, Role
from mycity.policy.base import require_role

HEALTH_AUTHORITY = "HEALTH"
CARD_ISSUERS: Mapping[CardKind, str] = {
    CardKind.SOCIAL_SECURITY: "HRSS",
    CardKind.E_HEALTH: "HEALTH",
    CardKind.LIBRARY: "LIBRARY",
    CardKind.TRANSIT: "TRANSIT",
}


def health_authority(principal: Principal | None) -> str:
    """The health authority's feed's client id; FORBIDDEN for anyone else."""
    return _feed_of(principal, HEALTH_AUTHORITY, "Only the health authority sets health statuses")


def card_issuer(principal: Principal | None, kind: CardKind) -> str:
    """The feed's client id, if its institution issues this kind of card."""
    department = CARD_ISSUERS[kind]
    return _feed_of(principal, department, f"Only {department} links {kind.value} cards")


def _feed_of(principal: Principal | None, department: str, refusal: str) -> str:
    feed = require_role(principal, Role.AUTHORITY_FEED)
    if feed.department != department:
        raise Forbidden(refusal)
    return feed.subject
