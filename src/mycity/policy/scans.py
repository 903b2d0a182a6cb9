"""Who scans city codes, for what, and what each is told; who reads the scan logs.

A partner's role decides the purposes it may scan for and the one thing it learns: a
transit gate whether to open, a hospital the e-health card number, a library the library
card number and whether it lends without a deposit, a shop or a venue the colour. Nothing
else leaves the server, so a partner cannot collect more than its counter needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from uuid import UUID

from mycity.domain.code_holder import CardKind, Colour
from mycity.domain.errors import ErrorCode, Forbidden, UserError
from mycity.identity.principal import SCANNER_ROLES, Principal, Role
from mycity.policy.base import Grant, require_citizen, require_role
from mycity.verifier.city_code import Purpose

ROLE_PURPOSES: Mapping[Role, frozenset[Purpose]] = {
    Role.TRANSIT_GATE: frozenset({Purpose.TRANSIT}),
    Role.HOSPITAL: frozenset({Purpose.HEALTH, Purpose.IDENTITY}),
    Role.LIBRARY: frozenset({Purpose.IDENTITY}),
    Role.MERCHANT: frozenset({Purpose.PAYMENT, Purpose.HEALTH}),
    Role.VENUE: frozenset({Purpose.HEALTH, Purpose.IDENTITY}),
}
ROLE_CARD: Mapping[Role, CardKind] = {
    Role.HOSPITAL: CardKind.E_HEALTH,
    Role.LIBRARY: CardKind.LIBRARY,
}
GATE_OPENS_FOR = frozenset({Colour.GREEN})


@dataclass(frozen=True)
class Told:
    """What a scanner learns of the citizen, by role; the rest stays None."""

    allowed: bool | None = None  # a transit gate
    colour: Colour | None = None  # a shop, a venue
    card: CardKind | None = None  # a hospital, a library: which card
    card_number: str | None = None  # ... and its number, if one is linked
    deposit_free: bool | None = None  # a library: whether it lends without a deposit

    @property
    def shown(self) -> list[str]:
        """The names of what was told, as the scan records them."""
        names: list[tuple[str, object]] = [("allowed", self.allowed), ("colour", self.colour)]
        if self.card is not None:
            names.append((f"{self.card.value.lower()}_card", self.card_number))
        names.append(("deposit_free", self.deposit_free))
        return [name for name, value in names if value is not None]


def scanning_partner(principal: Principal | None) -> Principal:
    """A partner that scans codes (and lists its own scans, and prints place codes)."""
    return require_role(principal, *sorted(SCANNER_ROLES))


def scanner(principal: Principal | None, purpose: Purpose) -> Principal:
    """A partner that scans codes, for a purpose its role scans for."""
    who = scanning_partner(principal)
    if purpose not in ROLE_PURPOSES[who.role]:
        allowed = ", ".join(sorted(p.name for p in ROLE_PURPOSES[who.role]))
        raise UserError(
            ErrorCode.PURPOSE_NOT_ALLOWED,
            f"A {who.role.value.lower().replace('_', ' ')} scans for {allowed}",
            "purpose",
        )
    return who


def told(
    role: Role, colour: Colour, cards: Mapping[CardKind, str], deposit_free: bool | None
) -> Told:
    """A library is also told whether its citizen borrows without a deposit (their credit
    tier's benefit), and nothing of the score itself."""
    if role is Role.TRANSIT_GATE:
        return Told(allowed=colour in GATE_OPENS_FOR)
    if card := ROLE_CARD.get(role):
        free = deposit_free if role is Role.LIBRARY else None
        return Told(card=card, card_number=cards.get(card), deposit_free=free)
    return Told(colour=colour)


# The scan logs.

VENUE_LOG = frozenset({"citizen", "place", "purpose", "colour", "scanned_at"})
VENUE_LOG_FULL = VENUE_LOG - {"citizen"}  # a venue sees its own scans, never who
VENUE_LOG_ALWAYS = VENUE_LOG_FULL - {"colour"}


def venue_log_shows(told: Iterable[str]) -> frozenset[str]:
    """What a partner's log shows of one of its scans: when, where and why, and of the
    person no more than that scan told it (the colour only if it was told the colour; a
    gate was told whether it opened, a hospital or a library a card number, a check-in
    nothing)."""
    return VENUE_LOG_ALWAYS | ({"colour"} if "colour" in told else frozenset())


def own_scans(principal: Principal | None) -> UUID:
    """Only the citizen lists their own scans."""
    return require_citizen(principal)


def venue_grant() -> Grant:
    return Grant(full=VENUE_LOG_FULL)


HEALTH_AUTHORITY = "HEALTH"
TRACE = frozenset({"citizen", "name", "phone", "scanned_at", "colour"})


def contact_tracer(principal: Principal | None) -> Grant:
    """The health authority (its feed, or its officers) traces contacts, in full."""
    who = require_role(principal, Role.AUTHORITY_FEED, Role.OFFICER)
    if who.department != HEALTH_AUTHORITY:
        raise Forbidden("Only the health authority traces contacts")
    return Grant(full=TRACE)
