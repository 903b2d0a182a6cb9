"""What the city code shows of a citizen: their health status (健康码 colour) and the cards
institutions have linked to them.

One `CodeHolder` per citizen, beside their file rather than in it: the health authority's
feed changes colours in bulk and institutions link cards all day, and none of that should
contend with, or be replayed with, the Citizen file. The colour, its reason and the card
numbers are the citizen's data, sealed under their key: erasing them makes these unreadable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mycity.domain.application import reason_text
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.personal import Kind, Retention, not_personal, personal


class Colour(StrEnum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"


class CardKind(StrEnum):
    SOCIAL_SECURITY = "SOCIAL_SECURITY"  # 社保卡
    E_HEALTH = "E_HEALTH"  # 电子健康卡
    LIBRARY = "LIBRARY"
    TRANSIT = "TRANSIT"


DEFAULT_COLOUR = Colour.GREEN  # the rule's default: shown when no status set is in force

_CARD_NUMBER = re.compile(r"[A-Za-z0-9-]{4,64}")


def subject_number(citizen_id: UUID) -> bytes:
    """The 8 bytes a city code's sealed reference carries for the citizen: the start of
    their file id (itself a keyed hash of the ID number)."""
    return citizen_id.bytes[:8]


def holder_of_subject(subject: bytes) -> UUID:
    """The holder a code's subject number names: how a scan finds the citizen."""
    return uuid5(NAMESPACE_URL, f"mycity:code-holder:{subject.hex()}")


def code_holder_id(citizen_id: UUID) -> UUID:
    """One holder per citizen, named by their subject number: two feeds opening it at once
    collide in the store. (Two citizens whose ids share their first 8 bytes, a chance of
    about 4e-7 among four million, would share one: the second is refused a code.)"""
    return holder_of_subject(subject_number(citizen_id))


def parse_colour(raw: str, field: str = "colour") -> Colour:
    try:
        return Colour(raw.strip().upper())
    except ValueError:
        raise UserError(ErrorCode.INVALID_COLOUR, "Give GREEN, YELLOW or RED", field) from None


def parse_card_kind(raw: str, field: str = "kind") -> CardKind:
    try:
        return CardKind(raw.strip().upper())
    except ValueError:
        kinds = ", ".join(CardKind)
        raise UserError(ErrorCode.INVALID_CARD, f"Give one of {kinds}", field) from None


def parse_validity(raw: str, field: str = "validUntil") -> datetime | None:
    """An ISO 8601 moment with its UTC offset (a feed's clock is not ours), or "": none."""
    if not raw.strip():
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise UserError(
            ErrorCode.INVALID_VALIDITY, "Give an ISO 8601 time with its offset, or nothing", field
        )
    return moment


@dataclass(frozen=True)
class HealthStatus:
    """The status in force at a moment: the one set while valid, else the default."""

    colour: Colour
    reason: str  # "" for the default
    valid_until: datetime | None  # None: until changed


@personal(
    subject="citizen",
    retention=Retention.SERVICE_ACTIVITY,
    status_colour=Kind.TEXT,
    status_reason=Kind.TEXT,
    cards=Kind.CARD_NUMBER,
)
class CodeHolder(Aggregate):
    """The declared fields are sealed in snapshots under the citizen's key."""

    id: UUID

    @not_personal("citizen")
    class Opened(Aggregate.Created):
        citizen: UUID

    @not_personal("citizen", "valid_until", "by", "source_ref")
    @personal(
        subject="citizen", retention=Retention.SERVICE_ACTIVITY, colour=Kind.TEXT, reason=Kind.TEXT
    )
    class HealthStatusSet(Aggregate.Event):
        citizen: UUID  # whose key seals the status
        colour: str
        reason: str
        valid_until: str  # ISO 8601 in UTC, or "": until changed
        by: str  # the feed's client id
        source_ref: str  # the import's row ("line 12"), or "" when set one by one

    @not_personal("citizen", "kind", "by")
    @personal(subject="citizen", retention=Retention.SERVICE_ACTIVITY, number=Kind.CARD_NUMBER)
    class CardLinked(Aggregate.Event):
        citizen: UUID  # whose key seals the number
        kind: str
        number: str
        by: str

    @not_personal("kind", "by", "reason")
    class CardUnlinked(Aggregate.Event):
        kind: str
        by: str
        reason: str

    @event(Opened)
    def __init__(self, citizen: UUID) -> None:
        self.citizen = citizen
        # None below: sealed fields once the citizen's key is shredded
        self.status_colour: str | None = ""  # "" until a status is set
        self.status_reason: str | None = ""
        self.valid_until = ""
        self.cards: dict[str, str | None] | None = {}

    @classmethod
    def open(cls, citizen: UUID) -> CodeHolder:
        return cls(id=code_holder_id(citizen), citizen=citizen)  # type: ignore[call-arg]

    @property
    def erased(self) -> bool:
        """Whether the citizen's data was erased: the sealed fields read as None."""
        return (
            self.status_colour is None
            or self.cards is None
            or any(number is None for number in self.cards.values())
        )

    def status(self, now: datetime) -> HealthStatus:
        until = datetime.fromisoformat(self.valid_until) if self.valid_until else None
        if self.status_colour and (until is None or now < until):
            return HealthStatus(Colour(self.status_colour), self.status_reason or "", until)
        return HealthStatus(DEFAULT_COLOUR, "", None)

    def colour(self, now: datetime) -> Colour:
        return self.status(now).colour

    @property
    def linked(self) -> Mapping[CardKind, str]:
        """The linked cards' numbers by kind (none once erased)."""
        return {CardKind(k): n for k, n in (self.cards or {}).items() if n is not None}

    def set_health_status(
        self,
        *,
        colour: str,
        reason: str,
        valid_until: datetime | None,
        now: datetime,
        by: str,
        source_ref: str = "",
    ) -> None:
        """Set the colour until `valid_until` (None: until changed); the same colour, reason
        and validity again records nothing, so a feed may send its whole list each time."""
        self.require_live()
        set_colour = parse_colour(colour)
        text = reason_text(reason)
        until = ""
        if valid_until is not None:
            if valid_until.tzinfo is None or valid_until <= now:
                raise UserError(
                    ErrorCode.INVALID_VALIDITY, "Give a time to come, with its offset", "validUntil"
                )
            until = valid_until.astimezone(UTC).isoformat()
        if (set_colour.value, text, until) == (
            self.status_colour,
            self.status_reason,
            self.valid_until,
        ):
            return
        self._health_status_set(
            citizen=self.citizen,
            colour=set_colour.value,
            reason=text,
            valid_until=until,
            by=by,
            source_ref=source_ref,
        )

    @event(HealthStatusSet)
    def _health_status_set(
        self, citizen: UUID, colour: str, reason: str, valid_until: str, by: str, source_ref: str
    ) -> None:
        self.status_colour = colour
        self.status_reason = reason
        self.valid_until = valid_until

    def link_card(self, *, kind: CardKind, number: str, by: str) -> None:
        """Link the card, replacing another of its kind; the same card again records nothing."""
        self.require_live()
        canonical = "".join(number.split())
        if not _CARD_NUMBER.fullmatch(canonical):
            raise UserError(
                ErrorCode.INVALID_CARD, "Give 4 to 64 letters, digits or dashes", "number"
            )
        if self.linked.get(kind) == canonical:
            return
        self._card_linked(citizen=self.citizen, kind=kind.value, number=canonical, by=by)

    @event(CardLinked)
    def _card_linked(self, citizen: UUID, kind: str, number: str | None, by: str) -> None:
        if self.cards is not None:
            self.cards[kind] = number

    def unlink_card(self, *, kind: CardKind, by: str, reason: str) -> None:
        self.require_live()
        if kind not in self.linked:
            raise UserError(ErrorCode.CARD_NOT_LINKED, f"No {kind.value} card is linked", "kind")
        self._card_unlinked(kind=kind.value, by=by, reason=reason_text(reason))

    @event(CardUnlinked)
    def _card_unlinked(self, kind: str, by: str, reason: str) -> None:
        if self.cards is not None:
            self.cards.pop(kind, None)

    def require_live(self) -> None:
        """An erased citizen's holder takes no more commands (nothing could be sealed)."""
        if self.erased:
            raise UserError(ErrorCode.FILE_ERASED, "This person's data was erased")
