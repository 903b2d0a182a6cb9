"""The canonical encoding the licence formats sign, and strict reading of what they carry.

Signatures cover bytes, so signer and verifier must turn the same content into the same
bytes: RFC 8785 (JCS) canonical JSON, restricted to what Python's json module writes exactly
that way (ASCII keys, integers only). Reading refuses anything two readers could take two
ways (duplicate keys, floats, members nobody signed for) with ValueError.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Set
from typing import NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MAX_INT = 2**53 - 1  # the largest integer that every JSON reader holds exactly
ISSUER = re.compile(r"[A-Z][A-Z0-9-]{0,31}")  # a department's code, e.g. AMR
KID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
SIGNATURE_SIZE = 64
MAX_LIFETIME = 300  # seconds a presentation may live, in either format
MAX_QR_TEXT = 4296  # alphanumeric characters of the largest QR code (version 40-L)
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode's control characters (Cc)


class TooLongForQr(ValueError):
    """The fields chosen make a text longer than a QR code holds (MAX_QR_TEXT)."""

    def __init__(self, length: int) -> None:
        super().__init__(f"{length} characters do not fit in a QR code ({MAX_QR_TEXT} at most)")
        self.length = length


def canonical(value: object) -> bytes:
    """The RFC 8785 canonical JSON of `value`, in UTF-8: keys sorted, no whitespace."""
    text = json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    return text.encode()


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 section 5), as JOSE writes bytes."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(value: object, size: int | None = None) -> bytes:
    """The bytes of unpadded base64url in its one canonical spelling (of `size` bytes)."""
    if not (isinstance(value, str) and _B64URL.fullmatch(value) and len(value) % 4 != 1):
        raise ValueError("not unpadded base64url")
    data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if b64url(data) != value:  # stray bits in the last character
        raise ValueError("not canonical base64url")
    if size is not None and len(data) != size:
        raise ValueError(f"expected {size} bytes")
    return data


def parse_json(text: str) -> object:
    """JSON text (a str: json.loads would guess an encoding for bytes) without duplicate
    keys, floats, NaN or Infinity."""
    if not isinstance(text, str):
        raise ValueError("JSON is read from a str")
    try:
        return json.loads(
            text, object_pairs_hook=_unique_keys, parse_float=_refuse, parse_constant=_refuse
        )
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def members(value: object, names: Set[str]) -> dict[str, object]:
    """`value` as an object with exactly the members `names`."""
    if not (isinstance(value, dict) and value.keys() == names):
        raise ValueError(f"expected an object with the members {sorted(names)}")
    return value


def integer(value: object) -> int:
    """An integer from 0 to 2**53 - 1 (JSON's true and false are not integers)."""
    if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INT):
        raise ValueError("expected an integer from 0 to 2**53 - 1")
    return value


def string(value: object, pattern: re.Pattern[str] | None = None, max_length: int = 256) -> str:
    """A string that UTF-8 can encode, of at most `max_length` characters (code points);
    non-empty and without control characters (U+0000-U+001F, U+007F-U+009F) unless
    `pattern` (which it must match whole) is given."""
    if not isinstance(value, str) or len(value) > max_length or not is_utf8(value):
        raise ValueError("expected a UTF-8 string")
    if pattern is None and (value == "" or _CONTROL.search(value)):
        raise ValueError("expected a non-empty line of text")
    if pattern is not None and not pattern.fullmatch(value):
        raise ValueError(f"{value!r} is not of the form {pattern.pattern}")
    return value


def is_utf8(value: str) -> bool:
    """False for a str holding lone surrogates, which UTF-8 cannot encode."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def verifies(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    """Whether `signature` is `public_key`'s Ed25519 signature of `message`."""
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("an object repeats a key")
    return found


def _refuse(literal: str) -> NoReturn:
    raise ValueError(f"{literal!r}: numbers are integers")
