"""National identifiers and their check characters, and how they are masked.

- Resident ID numbers follow GB 11643-1999 (ISO 7064 MOD 11-2 check character).
- Unified social credit codes follow GB 32100-2015, embedding a GB 11714 organisation code.
"""

from __future__ import annotations

import re
from datetime import date

from mycity.domain.errors import ErrorCode, UserError

_ID_NUMBER_SHAPE = re.compile(r"^(\d{6})(\d{8})(\d{3})([0-9X])$", re.ASCII)
_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_MOD_11_2_CHECK = "10X98765432"  # indexed by (sum of weighted digits) mod 11


def resident_id_check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character over the first 17 digits of an ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _MOD_11_2_CHECK[total % 11]


def validate_resident_id(raw: str, today: date | None = None) -> str:
    """Return the canonical ID number (upper-case X), or raise a UserError saying what is wrong.

    Area codes are not checked against today's tables: codes are never reissued, so a
    person born under a since-abolished code still holds a valid number.
    """
    number = raw.strip().upper()
    match = _ID_NUMBER_SHAPE.match(number)
    if not match:
        raise UserError(
            ErrorCode.INVALID_ID_NUMBER,
            "An ID number has 17 digits and a final digit or X",
        )
    area, birth, _sequence, check = match.groups()
    if area.startswith("0") or area.startswith("9"):
        raise UserError(ErrorCode.INVALID_ID_NUMBER, f"{area} is not an area code")
    try:
        born = date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    except ValueError:
        raise UserError(ErrorCode.INVALID_BIRTH_DATE, f"{birth} is not a date") from None
    if born.year < 1850:
        raise UserError(ErrorCode.INVALID_BIRTH_DATE, f"{birth} is not a plausible birth date")
    if born > (today or date.today()):
        raise UserError(ErrorCode.BIRTH_DATE_IN_FUTURE, f"{birth} is in the future")
    expected = resident_id_check_character(number[:17])
    if check != expected:
        raise UserError(ErrorCode.CHECK_CHARACTER_MISMATCH, "The check character does not match")
    return number


CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUES = {c: i for i, c in enumerate(CREDIT_CODE_ALPHABET)}
_CREDIT_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def credit_code_check_character(first17: str) -> str:
    """GB 32100 check character: 31 - (weighted sum mod 31), with 31 written as 0."""
    total = sum(_CREDIT_VALUES[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def organisation_code_check_character(first8: str) -> str:
    """GB 11714 check character: 11 - (weighted sum mod 11); 10 is X and 11 is 0."""
    total = sum(int(c, 36) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def validate_credit_code(raw: str) -> str:
    """Return the canonical unified social credit code, or raise a UserError."""
    code = raw.strip().upper()
    if len(code) != 18 or any(c not in _CREDIT_VALUES for c in code):
        raise UserError(
            ErrorCode.INVALID_CREDIT_CODE,
            f"A credit code has 18 characters from {CREDIT_CODE_ALPHABET}",
        )
    if not code[2:8].isdigit():
        raise UserError(ErrorCode.INVALID_CREDIT_CODE, "Characters 3 to 8 are an area code")
    if code[17] != credit_code_check_character(code[:17]):
        raise UserError(ErrorCode.CHECK_CHARACTER_MISMATCH, "The check character does not match")
    organisation = code[8:17]
    if organisation[8] != organisation_code_check_character(organisation[:8]):
        raise UserError(
            ErrorCode.ORGANIZATION_CODE_MISMATCH,
            "The embedded organisation code's check character does not match",
        )
    return code


_ORGANISATION_BODY = 8
_CREDIT_BASE = len(CREDIT_CODE_ALPHABET)


def assign_credit_code(*, authority: str = "9", kind: str = "1", division: str, serial: int) -> str:
    """A new unified social credit code: the serial-th of its authority, kind and division.

    The defaults are a market-regulation registration (9) of an enterprise (1). The embedded
    organisation code's 8 characters are the serial in base 31 over the credit-code alphabet,
    fixed width: GB 32100 allows no I, O, S, V or Z anywhere in the code, so base 36 would
    yield invalid codes. Distinct serials give distinct codes: 31^8 of each authority, kind
    and division.
    """
    for label, value in (("authority", authority), ("kind", kind)):
        if len(value) != 1 or value not in _CREDIT_VALUES:
            raise ValueError(f"{label} is one character from {CREDIT_CODE_ALPHABET}")
    if not (len(division) == 6 and division.isascii() and division.isdigit()) or division[0] == "0":
        raise ValueError("division is a 6-digit administrative division code")
    if not 0 <= serial < _CREDIT_BASE**_ORGANISATION_BODY:
        raise ValueError(f"serial is 0 to 31^{_ORGANISATION_BODY} - 1")
    body = ""
    for _ in range(_ORGANISATION_BODY):
        serial, digit = divmod(serial, _CREDIT_BASE)
        body = CREDIT_CODE_ALPHABET[digit] + body
    first17 = authority + kind + division + body + organisation_code_check_character(body)
    return first17 + credit_code_check_character(first17)


_PHONE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)


def validate_phone(raw: str) -> str:
    """A mainland mobile number, digits only (an optional +86 is dropped)."""
    phone = re.sub(r"[\s-]", "", raw)
    phone = phone.removeprefix("+86")
    if not _PHONE.match(phone):
        raise UserError(ErrorCode.INVALID_PHONE, "A mobile number has 11 digits starting with 1")
    return phone


def validate_name(raw: str, *, longest: int = 60) -> str:
    name = " ".join(raw.split())
    if not name or len(name) > longest or any(not c.isprintable() for c in name):
        raise UserError(ErrorCode.INVALID_NAME, f"A name has 1 to {longest} printable characters")
    return name


def mask_id_number(number: str) -> str:
    """Keep the first 3 and last 4 characters: enough to recognise one's own, not to use."""
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]
