"""Base45 (RFC 9285): bytes as characters of the QR code's alphanumeric mode.

A QR code stores its 45 alphanumeric characters at 5.5 bits each, against 8 bits a character
in byte mode, so Base45 text (3 characters per 2 bytes) makes a smaller code than base64.
The EU Digital COVID Certificate's `HC1:` codes are built the same way.
"""

from __future__ import annotations

import struct
from operator import add

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_BASE = len(ALPHABET)
_INVALID = b"\xff"
# Each ASCII byte to its value in the alphabet; every other byte to 0xFF.
_TABLE = bytes(ALPHABET.find(chr(b)) if chr(b) in ALPHABET else 0xFF for b in range(256))
_TIMES_BASE = tuple(v * _BASE for v in range(256))
_TIMES_BASE_SQUARED = tuple(v * _BASE * _BASE for v in range(256))


def encode(data: bytes) -> str:
    """Each 2 bytes as 3 characters, least significant first; a last odd byte as 2."""
    characters = []
    for start in range(0, len(data), 2):
        chunk = data[start : start + 2]
        number = int.from_bytes(chunk, "big")
        for _ in range(len(chunk) + 1):
            number, digit = divmod(number, _BASE)
            characters.append(ALPHABET[digit])
    return "".join(characters)


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
