"""The place code (场所码): a venue's static signed QR code, scanned by citizens.

A venue prints one code per place (a shop's door, a hall, a bus). A citizen's app scans
it and the server records the visit on the citizen's file, the other way round from a
partner scanning the citizen's code. The code names the partner and the place in clear
(they are the venue's, not anyone's personal data) and is signed with the city-code keys,
so a forged or altered poster is refused; it never expires (a withdrawn key revokes
every code it signed). docs/city-code.md specifies it. Standard library and
`cryptography` only.

What is signed begins with a context string, so no place code's signature can ever stand
for a city code's (whose signed bytes start with its version, 1, never `m`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mycity.verifier import base45
from mycity.verifier.city_code import Reason
from mycity.verifier.city_code_keys import CodeKeys
from mycity.verifier.licence_codec import verifies

PLACE_PREFIX = "MP1:"
VERSION = 1
CONTEXT = b"mycity place code\x00"
MAX_FIELD = 64  # bytes of UTF-8, for the partner's id and for the place
SIGNATURE_SIZE = 64
_HEAD = struct.Struct(">BB")  # version, key index


@dataclass(frozen=True)
class PlaceVerdict:
    ok: bool
    reason: Reason
    kid: str | None = None
    partner: str | None = None  # the venue's client id
    place: str | None = None


def issue_place_code(key: Ed25519PrivateKey, code_key: int, *, partner: str, place: str) -> str:
    """The QR text of a place code; ValueError if a name is empty or longer than 64
    bytes of UTF-8, or the index is not 0-255."""
    names = [name.encode() for name in (partner, place)]
    if not all(1 <= len(name) <= MAX_FIELD for name in names):
        raise ValueError(f"the partner and the place are 1 to {MAX_FIELD} bytes of UTF-8")
    if not 0 <= code_key <= 0xFF:
        raise ValueError("the key index is 0-255")
    body = _HEAD.pack(VERSION, code_key) + b"".join(bytes([len(n)]) + n for n in names)
    return PLACE_PREFIX + base45.encode(body + key.sign(CONTEXT + body))


def verify_place_code(text: object, keys: CodeKeys) -> PlaceVerdict:
    """Whether `text` is a place code the city signed. Never raises."""
    if not (isinstance(text, str) and text.startswith(PLACE_PREFIX) and len(text) < 512):
        return PlaceVerdict(False, Reason.MALFORMED)
    try:
        data = base45.decode(text[len(PLACE_PREFIX) :])
    except ValueError:
        return PlaceVerdict(False, Reason.MALFORMED)
    read = _read(data)
    if read is None:
        return PlaceVerdict(False, Reason.MALFORMED)
    code_key, partner, place, size = read
    key = keys.active.get(code_key)
    if key is None:
        withdrawn = code_key in keys.withdrawn
        return PlaceVerdict(False, Reason.WITHDRAWN_KEY if withdrawn else Reason.UNKNOWN_KEY)
    if not verifies(key.public_key, data[size:], CONTEXT + data[:size]):
        return PlaceVerdict(False, Reason.BAD_SIGNATURE)
    return PlaceVerdict(True, Reason.VALID, key.kid, partner, place)


def _read(data: bytes) -> tuple[int, str, str, int] | None:
    """The key index, partner, place and the signed length, if the bytes are well-formed."""
    if len(data) < _HEAD.size:
        return None
    version, code_key = _HEAD.unpack_from(data)
    at = _HEAD.size
    names = []
    for _ in range(2):
        size = data[at] if at < len(data) else 0
        name = data[at + 1 : at + 1 + size]
        if not 1 <= size <= MAX_FIELD or len(name) != size:
            return None
        try:
            names.append(name.decode())
        except UnicodeDecodeError:
            return None
        at += 1 + size
    if version != VERSION or len(data) != at + SIGNATURE_SIZE:
        return None
    return code_key, names[0], names[1], at
