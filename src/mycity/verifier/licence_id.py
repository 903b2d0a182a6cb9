"""Licence identifiers (电子证照标识) in the form of GB/T 36904-2018, as the national platform
writes them: `1.2.156.3005.2.<type code>.<issuer code>.<serial>.<version>.<check>`.

`1.2.156.3005.2` is the OID arc of electronic licences. The type code is the 18-character
unified social credit code of the department that defines the licence type and a 3-digit
type number; the issuer code is the issuing authority's unified social credit code. The
standard leaves the serial's form to each licence type: mycity writes 10 digits. The check
character (ISO/IEC 7064 MOD 37,36 over the fields without the dots) catches a mistyped or
swapped character when someone types an identifier in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROOT = "1.2.156.3005.2"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SERIAL_DIGITS = 10
VERSION_DIGITS = 3
_MODULUS = len(ALPHABET)  # M = 36; the hybrid system also works modulo M + 1 = 37
TYPE_CODE = re.compile(r"[0-9A-Z]{18}[0-9]{3}")
_ISSUER_CODE = re.compile(r"[0-9A-Z]{18}")
_BODY = re.compile(r"[0-9A-Z]*")
_IDENTIFIER = re.compile(
    re.escape(ROOT)
    + rf"\.([0-9A-Z]{{18}}[0-9]{{3}})\.([0-9A-Z]{{18}})\.([0-9]{{{SERIAL_DIGITS}}})"
    + rf"\.([0-9]{{{VERSION_DIGITS}}})\.([0-9A-Z])"
)


def mod37_36_check_character(body: str) -> str:
    """The ISO/IEC 7064 MOD 37,36 check character of `body` (characters 0-9 and A-Z).

    P starts at 36; each character adds its value (0-9, A=10 … Z=35) modulo 36, with 0 read
    as 36, and the sum is doubled modulo 37. The check character is the one that brings the
    last P to 1 modulo 36. It detects every single substitution and adjacent transposition.
    """
    if not (isinstance(body, str) and _BODY.fullmatch(body)):
        raise ValueError("a MOD 37,36 body holds only the characters 0-9 and A-Z")
    product = _MODULUS
    for character in body:
        total = (product + ALPHABET.index(character)) % _MODULUS or _MODULUS
        product = total * 2 % (_MODULUS + 1)
    return ALPHABET[(_MODULUS + 1 - product) % _MODULUS]


@dataclass(frozen=True)
class LicenceIdentifier:
    """The fields of a licence identifier; building one checks that each fits its place."""

    type_code: str
    issuer_code: str
    serial: int
    version: int

    def __post_init__(self) -> None:
        if not (isinstance(self.type_code, str) and TYPE_CODE.fullmatch(self.type_code)):
            raise ValueError("a type code is an 18-character credit code and 3 digits")
        if not (isinstance(self.issuer_code, str) and _ISSUER_CODE.fullmatch(self.issuer_code)):
            raise ValueError("an issuer code is an 18-character unified social credit code")
        if not (_is_int(self.serial) and 0 <= self.serial < 10**SERIAL_DIGITS):
            raise ValueError(f"a serial is a number of at most {SERIAL_DIGITS} digits")
        if not (_is_int(self.version) and 1 <= self.version < 10**VERSION_DIGITS):
            raise ValueError(f"a version is a number from 1 to {10**VERSION_DIGITS - 1}")

    def fields(self) -> tuple[str, str, str, str]:
        """Type code, issuer code, serial and version as the identifier writes them."""
        serial = f"{self.serial:0{SERIAL_DIGITS}d}"
        return self.type_code, self.issuer_code, serial, f"{self.version:0{VERSION_DIGITS}d}"

    def __str__(self) -> str:
        check = mod37_36_check_character("".join(self.fields()))
        return ".".join((ROOT, *self.fields(), check))


def licence_identifier(type_code: str, issuer_code: str, serial: int, version: int) -> str:
    """The identifier's text with its check character; ValueError if a field does not fit."""
    return str(LicenceIdentifier(type_code, issuer_code, serial, version))


def parse_licence_identifier(text: str) -> LicenceIdentifier | None:
    """The fields of an identifier, or None if it is malformed or its check character is
    wrong; never raises."""
    match = _IDENTIFIER.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    type_code, issuer_code, serial, version, check = match.groups()
    if mod37_36_check_character(type_code + issuer_code + serial + version) != check:
        return None
    try:
        return LicenceIdentifier(type_code, issuer_code, int(serial), int(version))
    except ValueError:  # version 000
        return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
