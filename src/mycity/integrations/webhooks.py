"""Signed notifications, the Standard Webhooks way (standardwebhooks.com), with its
asymmetric scheme `v1a`: Ed25519 over `<webhook-id>.<webhook-timestamp>.<body>`, so the
receiver holds only the sender's public key and no secret of it.

Three headers: `webhook-id` (the message's id, the same on every retry), `webhook-timestamp`
(unix seconds when this attempt was signed) and `webhook-signature` (space-separated
`v1a,<base64 signature>`; more than one while a key rotates). Keys are written `whpk_` (the
32-byte public key) and `whsk_` (the 32-byte private seed), in standard base64. The
`standardwebhooks` package checks only the symmetric `v1`, so the check is here; the
receiver remembers ids itself (a replay is its business, not the signature's).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

TOLERANCE_S = 300  # a timestamp this far from the receiver's clock, either way, still passes
PUBLIC_PREFIX = "whpk_"
SECRET_PREFIX = "whsk_"
MAX_ID = 64
MAX_SIGNATURE_HEADER = 1024  # a handful of signatures while keys rotate
_ID = re.compile(rf"[A-Za-z0-9_.:-]{{1,{MAX_ID}}}")
_TIMESTAMP = re.compile(r"0|[1-9][0-9]{0,11}")


class Refusal(StrEnum):
    """Why a notification was not accepted, as the receiver logs it (never its body)."""

    MALFORMED = "MALFORMED"  # a header missing or not in its form
    STALE = "STALE"  # signed more than TOLERANCE_S from now, either way
    FORGED = "FORGED"  # no signature that one of the keys makes
    REPLAYED = "REPLAYED"  # an id already accepted


class NotificationRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


def signed_content(message_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{message_id}.{timestamp}.".encode() + body


def public_key_text(key: Ed25519PublicKey) -> str:
    return PUBLIC_PREFIX + base64.b64encode(key.public_bytes_raw()).decode()


def secret_key_text(key: Ed25519PrivateKey) -> str:
    return SECRET_PREFIX + base64.b64encode(key.private_bytes_raw()).decode()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A `whpk_` key; ValueError says what is wrong with it."""
    return Ed25519PublicKey.from_public_bytes(_key_bytes(text.strip(), PUBLIC_PREFIX))


def parse_secret_key(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_key_bytes(text.strip(), SECRET_PREFIX))


def _key_bytes(text: str, prefix: str) -> bytes:
    if not text.startswith(prefix):
        raise ValueError(f"a key starts with {prefix}")
    try:
        raw = base64.b64decode(text[len(prefix) :], validate=True)
    except binascii.Error:
        raise ValueError("the key is not base64") from None
    if len(raw) != 32:
        raise ValueError("the key is not 32 bytes")
    return raw


def sign(key: Ed25519PrivateKey, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of one delivery attempt."""
    signature = key.sign(signed_content(message_id, timestamp, body))
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1a," + base64.b64encode(signature).decode(),
    }


@dataclass(frozen=True)
class Verified:
    message_id: str
    timestamp: int


def verify(
    keys: list[Ed25519PublicKey], headers: dict[str, str], body: bytes, now: float
) -> Verified:
    """The notification's id and time if one of the keys signed it within the tolerance;
    else NotificationRefused. Header names are matched in lower case."""
    message_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if (
        not _ID.fullmatch(message_id)
        or not _TIMESTAMP.fullmatch(timestamp)
        or not 0 < len(signatures) <= MAX_SIGNATURE_HEADER
    ):
        raise NotificationRefused(Refusal.MALFORMED)
    at = int(timestamp)
    if abs(now - at) > TOLERANCE_S:
        raise NotificationRefused(Refusal.STALE)
    content = signed_content(message_id, at, body)
    for candidate in signatures.split(" "):
        version, _, encoded = candidate.partition(",")
        if version != "v1a":
            continue
        try:
            signature = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue
        for key in keys:
            try:
                key.verify(signature, content)
            except InvalidSignature:
                continue
            return Verified(message_id, at)
    raise NotificationRefused(Refusal.FORGED)
