"""The city code (一码通城): one short-lived signed QR code, and its offline check.

A citizen's app shows a code the city signs afresh every minute; a bus gate, a clinic, a
library desk or a till reads it and, with the city's published keys only, learns whether it
is genuine and fresh, what it may serve (identity, transit, health, payment), the health
colour and which cards it carries. It holds no readable personal data: the citizen appears
only as a reference that the server alone can open and that differs in every code.
docs/city-code.md specifies the format; this module holds both halves, so the server signs
exactly what partners verify. Like all of mycity.verifier: standard library and
`cryptography` only.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mycity.verifier import base45
from mycity.verifier.city_code_keys import (
    SUBJECT_REF_SIZE,
    CodeKey,
    CodeKeys,
    code_jwk,
    load_code_keys,
    open_subject,
    seal_subject,
)
from mycity.verifier.licence_codec import verifies

__all__ = [
    "Card",
    "CityCode",
    "CodeKey",
    "CodeKeys",
    "CodeVerdict",
    "Colour",
    "Purpose",
    "Reason",
    "code_jwk",
    "issue_code",
    "load_code_keys",
    "open_subject",
    "read_code",
    "seal_subject",
    "verify_code",
]

QR_PREFIX = "MC1:"
VERSION = 1
DEFAULT_LIFETIME = 60  # seconds
MAX_LIFETIME = 0xFFFF  # what the 2-byte field holds
NONCE_SIZE = 8
SIGNATURE_SIZE = 64
# version|colour, code_key, issued_at, lifetime, purposes|cards, nonce, subject_ref
_BODY = struct.Struct(">BBIHB8s16s")
BODY_SIZE = _BODY.size  # 33
CODE_SIZE = BODY_SIZE + SIGNATURE_SIZE  # 97
TEXT_LENGTH = len(QR_PREFIX) + CODE_SIZE // 2 * 3 + CODE_SIZE % 2 * 2  # 150
CODE_ID_SIZE = 16


class Purpose(StrEnum):
    """What a code may be used for; bit i of the purposes nibble is the i-th member."""

    IDENTITY = "identity"
    TRANSIT = "transit"
    HEALTH = "health"
    PAYMENT = "payment"


class Colour(StrEnum):
    """The health colour (健康码); its value in the code is its position here (0, 1, 2)."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class Card(StrEnum):
    """The cards a code carries; bit i of the cards nibble is the i-th member."""

    SOCIAL_SECURITY = "social_security"
    E_HEALTH = "e_health"
    LIBRARY = "library"
    TRANSIT = "transit"


class Reason(StrEnum):
    """Why a code was refused, in the order the checks run; VALID when none failed."""

    VALID = "valid"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    WITHDRAWN_KEY = "withdrawn_key"
    BAD_SIGNATURE = "bad_signature"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"


_PURPOSES = tuple(Purpose)
_CARDS = tuple(Card)
_COLOURS = tuple(Colour)
_PURPOSE_BIT = {purpose: 1 << i for i, purpose in enumerate(_PURPOSES)}
_CARD_BIT = {card: 1 << i for i, card in enumerate(_CARDS)}
_COLOUR_VALUE = {colour: i for i, colour in enumerate(_COLOURS)}
# Every nibble to its set, built once: reading a code is then a lookup, not a loop.
_PURPOSE_SETS = tuple(
    frozenset(p for i, p in enumerate(_PURPOSES) if n >> i & 1) for n in range(16)
)
_CARD_SETS = tuple(frozenset(c for i, c in enumerate(_CARDS) if n >> i & 1) for n in range(16))


@dataclass(frozen=True)
class CityCode:
    """A code as read from its QR text, before any signature or time is checked."""

    colour: Colour
    code_key: int  # the signing key's index, 0-255, as the JWKS entry's `code_key`
    issued_at: int  # unix seconds
    lifetime: int  # seconds, 1-65535
    purposes: frozenset[Purpose]
    cards: frozenset[Card]
    nonce: bytes
    subject_ref: bytes  # opaque: only the server can open it (`open_subject`)
    signature: bytes
    body: bytes = field(repr=False)  # the signed bytes: everything before the signature

    @property
    def expires_at(self) -> int:
        return self.issued_at + self.lifetime

    @property
    def code_id(self) -> bytes:
        """What tells this code from every other: the first 16 bytes of SHA-256 of the
        signed bytes. A till records it to refuse a second payment with the same code."""
        return hashlib.sha256(self.body).digest()[:CODE_ID_SIZE]


@dataclass(frozen=True)
class CodeVerdict:
    """The answer for one code. Once the signature holds it carries what the city signed,
    even when the code is not yet valid or has expired; before that only the reason."""

    ok: bool
    reason: Reason
    kid: str | None = None
    purposes: frozenset[Purpose] = frozenset()
    colour: Colour | None = None
    cards: frozenset[Card] = frozenset()
    issued_at: int | None = None
    expires_at: int | None = None
    code_id: bytes | None = None
    subject_ref: bytes | None = None


def issue_code(
    key: Ed25519PrivateKey,
    code_key: int,
    *,
    subject_ref: bytes,
    purposes: Iterable[Purpose],
    colour: Colour,
    cards: Iterable[Card] = (),
    issued_at: int,
    lifetime: int = DEFAULT_LIFETIME,
    nonce: bytes | None = None,
) -> str:
    """The QR text of a code signed by `key`, published under index `code_key`.

    `subject_ref` comes from `seal_subject`, new for every code; `nonce` is 8 random bytes
    unless given (only tests give one). ValueError (or KeyError for a purpose or card that
    is not one) if a field does not fit the format.
    """
    purpose_bits = 0
    for purpose in purposes:
        purpose_bits |= _PURPOSE_BIT[purpose]
    card_bits = 0
    for card in cards:
        card_bits |= _CARD_BIT[card]
    if nonce is None:
        nonce = os.urandom(NONCE_SIZE)
    if not purpose_bits:
        raise ValueError("a code serves at least one purpose")
    if not (0 <= code_key <= 0xFF and 0 <= issued_at <= 0xFFFF_FFFF):
        raise ValueError("the key index is 0-255 and issued_at fits 32 bits")
    if not 1 <= lifetime <= MAX_LIFETIME:
        raise ValueError(f"a code lives 1 to {MAX_LIFETIME} seconds")
    if len(nonce) != NONCE_SIZE or len(subject_ref) != SUBJECT_REF_SIZE:
        raise ValueError(f"the nonce is {NONCE_SIZE} bytes, the reference {SUBJECT_REF_SIZE}")
    body = _BODY.pack(
        VERSION << 4 | _COLOUR_VALUE[colour],
        code_key,
        issued_at,
        lifetime,
        card_bits << 4 | purpose_bits,
        nonce,
        subject_ref,
    )
    return QR_PREFIX + base45.encode(body + key.sign(body))


def read_code(text: object) -> CityCode | None:
    """The code a QR text holds if it is well-formed, checking no signature or time;
    None for anything else. Never raises."""
    if not (isinstance(text, str) and len(text) == TEXT_LENGTH and text.startswith(QR_PREFIX)):
        return None
    try:
        data = base45.decode(text[len(QR_PREFIX) :])
    except ValueError:
        return None
    head, code_key, issued_at, lifetime, sets, nonce, subject_ref = _BODY.unpack_from(data)
    # The high nibble is the version; of the low one, 2 reserved bits (zero) and the colour.
    if head >> 4 != VERSION or head & 0x0F > 2 or not lifetime or not sets & 0x0F:
        return None
    return CityCode(
        _COLOURS[head & 0x03],
        code_key,
        issued_at,
        lifetime,
        _PURPOSE_SETS[sets & 0x0F],
        _CARD_SETS[sets >> 4],
        nonce,
        subject_ref,
        data[BODY_SIZE:],
        data[:BODY_SIZE],
    )


def verify_code(text: object, keys: CodeKeys, *, now: float, skew: float = 30) -> CodeVerdict:
    """Whether the QR `text` is a genuine city code, fresh at `now` (unix seconds).

    The checks run in Reason's order; the first that fails is the verdict's reason. `skew`
    allows for a verifier's clock that differs from the city's, at both ends of the code's
    life; a NaN clock fails both. Never raises on any `text`.
    """
    code = read_code(text)
    if code is None:
        return CodeVerdict(False, Reason.MALFORMED)
    key = keys.active.get(code.code_key)
    if key is None:
        withdrawn = code.code_key in keys.withdrawn
        return CodeVerdict(False, Reason.WITHDRAWN_KEY if withdrawn else Reason.UNKNOWN_KEY)
    if not verifies(key.public_key, code.signature, code.body):
        return CodeVerdict(False, Reason.BAD_SIGNATURE)
    if not now >= code.issued_at - skew:
        reason = Reason.NOT_YET_VALID
    elif not now <= code.expires_at + skew:
        reason = Reason.EXPIRED
    else:
        reason = Reason.VALID
    return CodeVerdict(
        reason is Reason.VALID,
        reason,
        key.kid,
        code.purposes,
        code.colour,
        code.cards,
        code.issued_at,
        code.expires_at,
        code.code_id,
        code.subject_ref,
    )
