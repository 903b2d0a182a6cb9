"""A scan (扫码): a partner read a citizen's city code, or a citizen scanned a place code.

Each scan is a stream of its own, one event long, created on the citizen's behalf (it
names them as `citizen`, so their history joins it): recording one loads nothing and
writes version 1 of a new id, so it costs the same on a new file as on a long one. Its id
decides what may happen twice: a payment code's scan takes an id made from the code, so a
second redemption collides in the store; an offline device's upload takes one made from
the device and the code, so a batch sent twice is recorded once.

Where and when a person was, and the colour they showed, are theirs: sealed under their
key, so erasure makes them unreadable.
"""

from __future__ import annotations

import re
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.personal import Kind, Retention, not_personal, personal


class Direction(StrEnum):
    CODE = "CODE"  # a partner scanned the citizen's code
    PLACE = "PLACE"  # the citizen scanned the place's code (场所码)


SCAN_READ = "city_code.scan"  # how a scan is named among the reads of a person's data

_PLACE = re.compile(r"[^\x00-\x1f\x7f]{1,64}")


def parse_place(raw: str, field: str = "place") -> str:
    """A place as a partner names it ("Gate 3", "门诊大厅"): 1 to 64 printable characters."""
    place = " ".join(raw.split())
    if not _PLACE.fullmatch(place):
        raise UserError(ErrorCode.INVALID_PLACE, "Name the place in 1 to 64 characters", field)
    return place


@personal(
    subject="citizen", retention=Retention.SERVICE_ACTIVITY, place=Kind.TEXT, colour=Kind.TEXT
)
class Scan(Aggregate):
    id: UUID

    # Declared on the event itself: an event class does not inherit its aggregate's
    # declaration (that one covers the aggregate's snapshots).
    @not_personal(
        "citizen",
        "partner",
        "partner_role",
        "partner_name",
        "purpose",
        "shown",
        "direction",
        "scanned_at",
    )
    @personal(
        subject="citizen", retention=Retention.SERVICE_ACTIVITY, place=Kind.TEXT, colour=Kind.TEXT
    )
    class Recorded(Aggregate.Created):
        citizen: UUID
        partner: str  # the partner's client id
        partner_role: str
        partner_name: str
        place: str
        purpose: str  # what the code served: identity, transit, health, payment
        colour: str  # the health colour the code showed
        shown: list[str]  # what the server told the partner, by name ("allowed", "colour")
        direction: str
        scanned_at: str  # ISO 8601 in UTC: when the device read the code (offline: earlier)

    @event(Recorded)
    def __init__(
        self,
        citizen: UUID,
        partner: str,
        partner_role: str,
        partner_name: str,
        place: str,
        purpose: str,
        colour: str,
        shown: list[str],
        direction: str,
        scanned_at: str,
    ) -> None:
        self.citizen = citizen
        self.partner = partner
        self.scanned_at = scanned_at


def payment_scan_id(code_id: bytes) -> UUID:
    """A payment code is redeemed once: every scan of it for payment takes this id."""
    return uuid5(NAMESPACE_URL, f"mycity:payment-code:{code_id.hex()}")


def offline_scan_id(partner: str, code_id: bytes, purpose: str, place: str) -> UUID:
    """One device's scan of one code, for one purpose at one place, however often sent."""
    return uuid5(NAMESPACE_URL, f"mycity:offline-scan:{partner}:{code_id.hex()}:{purpose}:{place}")


REVISIT_SECONDS = 60  # the same place code sent again this soon (a retry, a double tap)


def check_in_id(citizen: UUID, place_code: str, minute: int) -> UUID:
    """A citizen's visit begun in this unix minute: its id, so two taps racing in one
    minute collide in the store."""
    return uuid5(NAMESPACE_URL, f"mycity:check-in:{citizen}:{minute}:{place_code}")
