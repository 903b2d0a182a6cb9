"""The citizen's one code for the city (一码通城), issued without recording anything.

A code is made afresh whenever the app asks (every `refresh_seconds`), signed with the
`code-signing` ring's active key and its one-byte index. It names the citizen only by a
reference sealed under the server's `code-subject` key with fresh randomness, so two
codes share no bytes; it carries the health colour in force and the kinds of the cards
linked (never their numbers). Refreshing writes no event: a code is not a fact. (The
citizen's first code opens their `CodeHolder`, once, if no feed has: a scan finds the
citizen through it.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mycity.domain.citizen import Citizen
from mycity.domain.code_holder import subject_number
from mycity.identity.keys import SigningKeyRing
from mycity.identity.principal import Principal
from mycity.integrations.qr import render_png
from mycity.policy.base import require_citizen
from mycity.store.files import CityFiles
from mycity.usecases.health import HealthFeeds
from mycity.verifier.city_code import Card, Colour, Purpose, issue_code, seal_subject

PURPOSES = frozenset(Purpose)  # one code serves everywhere: identity, transit, health, payment


@dataclass(frozen=True)
class IssuedCode:
    payload: str  # the QR text
    expires_at: int  # unix seconds
    refresh_seconds: int  # when the app should ask for the next one
    png: bytes | None  # the QR code drawn, when asked: slow, so only then


@dataclass(frozen=True)
class CityCodes:
    files: CityFiles
    ring: SigningKeyRing  # code-signing
    subject_key: bytes  # code-subject
    health: HealthFeeds
    clock: Callable[[], float]
    lifetime: int = 60

    @property
    def refresh_seconds(self) -> int:
        """A new code is asked for a quarter of a lifetime before the current one expires."""
        return max(1, self.lifetime * 3 // 4)

    def issue(self, actor: Principal | None, *, png: bool = False) -> IssuedCode:
        citizen_id = require_citizen(actor)
        self.files.read(Citizen, citizen_id).require_live()
        now = int(self.clock())
        held = self.health.for_code(citizen_id)
        payload = issue_code(
            self.ring.private_key(),
            self.ring.code_keys()[self.ring.active_kid],
            subject_ref=seal_subject(self.subject_key, subject_number(citizen_id)),
            purposes=PURPOSES,
            colour=Colour(held.colour.value.lower()),
            cards=[Card(kind.value.lower()) for kind in held.cards],
            issued_at=now,
            lifetime=self.lifetime,
        )
        return IssuedCode(
            payload, now + self.lifetime, self.refresh_seconds, render_png(payload) if png else None
        )
