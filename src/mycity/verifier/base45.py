"""Base45 (RFC 9285): bytes as characters of the QR code's alphanumeric mode.

A QR code stores its 45 alphanumeric characters at 5.5 bits each, against 8 bits a character
in byte mode, so Base45 text (3 characters per 2 bytes) makes a smaller code than base64.
The EU Digital COVID Certificate's `HC1:` codes are built the same way.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from operator import add

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_BASE = len(ALPHABET)
_INVALID = b"\xff"
# Each ASCII byte to its value in the alphabet; every other byte to 0xFF.
_TABLE = bytes(ALPHABET.find(chr(b)) if chr(b) in ALPHABET else 0xFF for b in range(256))
_TIMES_BASE = tuple(v * _BASE for v in range(256))
_TIMES_BASE_SQUARED = tuple(v * _BASE * _BASE for v in range(256))


def encode(data: bytes) -> str:
    """Each 2 bytes as 3 characters, least significant first; a last odd byte as 2.

    Computed on all groups at once: a loop of divmods per group cost more than the Ed25519
    signature of a city code. Each group's three digits come from byte-wise table look-ups
    (`bytes.translate`) and additions of whole byte strings as integers, lane by lane: no
    lane ever carries into the next, as every sum stays below 90. For a group 256a + b =
    2025·c2 + 45·c1 + c0, write 256a as 45·qa + ra and b as 45·qb + rb: then c0 = (ra + rb)
    mod 45 with a carry, c1 = (qa mod 45 + qb + carry) mod 45 with a carry, and c2 = qa div
    45 + that carry.
    """
    size, odd = divmod(len(data), 2)
    high, low = data[0 : 2 * size : 2], data[1 : 2 * size : 2]
    s0 = _add(high.translate(_RA), low.translate(_RB))
    s1 = (
        int.from_bytes(high.translate(_QA_MOD))
        + int.from_bytes(low.translate(_QB))
        + int.from_bytes(s0.translate(_CARRY))
    ).to_bytes(size)
    digits = bytearray(3 * size)
    digits[0::3] = s0.translate(_MOD)
    digits[1::3] = s1.translate(_MOD)
    digits[2::3] = _add(high.translate(_QA_DIV), s1.translate(_CARRY))
    text = digits.translate(_ASCII).decode("ascii")
    return text + _LAST_BYTE[data[-1]] if odd else text


def _add(x: bytes, y: bytes) -> bytes:
    """Lane-wise sums of two byte strings whose lanes never carry."""
    return (int.from_bytes(x) + int.from_bytes(y)).to_bytes(len(x))


def _table(value: Callable[[int], int]) -> bytes:
    return bytes(value(i) % 256 for i in range(256))


_RA = _table(lambda a: 256 * a % 45)
_QA_MOD = _table(lambda a: 256 * a // 45 % 45)
_QA_DIV = _table(lambda a: 256 * a // 45 // 45)
_RB = _table(lambda b: b % 45)
_QB = _table(lambda b: b // 45)
_MOD = _table(lambda s: s % 45)
_CARRY = _table(lambda s: int(s >= 45))
_ASCII = _table(lambda d: ord(ALPHABET[d % 45]))
_LAST_BYTE = tuple(ALPHABET[b % _BASE] + ALPHABET[b // _BASE] for b in range(256))


def decode(text: str) -> bytes:
    """The bytes `text` encodes; ValueError for a character outside the alphabet, a dangling
    character, or a group whose value does not fit its bytes (RFC 9285 section 4.2).

    Whole groups are decoded at once, column by column (a verifier decodes every code it
    scans: a loop per group cost it more than both its signature checks)."""
    if len(text) % 3 == 1:
        raise ValueError("Base45 text cannot be one character longer than a group of three")
    try:
        values = text.encode("ascii").translate(_TABLE)
    except UnicodeEncodeError:
        values = _INVALID
    if _INVALID[0] in values:
        raise ValueError("Base45 text holds a character outside its alphabet")
    whole = len(values) - len(values) % 3
    numbers = list(
        map(
            add,
            map(add, values[0:whole:3], map(_TIMES_BASE.__getitem__, values[1:whole:3])),
            map(_TIMES_BASE_SQUARED.__getitem__, values[2:whole:3]),
        )
    )
    if numbers and max(numbers) > 0xFFFF:
        raise ValueError("a Base45 group's value does not fit its bytes")
    decoded = struct.pack(f">{len(numbers)}H", *numbers)
    if whole < len(values):  # a last group of two characters: one byte
        number = values[whole] + values[whole + 1] * _BASE
        if number > 0xFF:
            raise ValueError("a Base45 group's value does not fit its bytes")
        decoded += bytes([number])
    return decoded
