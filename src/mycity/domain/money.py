"""Money: whole fen (分) as integers, CNY only, never a float on the money path; and the
idempotency keys a client sends with every request that moves it."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from mycity.domain.errors import ErrorCode, UserError

CEILING_FEN = 5_000_000  # 50,000 yuan: the default ceiling of one payment (settings)
KEY_MIN, KEY_MAX = 8, 64
_KEY = re.compile(rf"[A-Za-z0-9_-]{{{KEY_MIN},{KEY_MAX}}}")


def amount_fen(value: Any, ceiling: int = CEILING_FEN, field: str = "amountFen") -> int:
    """An amount from 1 fen to the ceiling; anything else (a fraction, a bool, a string,
    zero, a negative, more) a typed error naming the field."""
    if type(value) is not int or not 1 <= value <= ceiling:
        raise UserError(
            ErrorCode.INVALID_AMOUNT,
            f"Give a whole number of fen from 1 to {ceiling}",
            field,
        )
    return value


def idempotency_key(value: str, field: str = "idempotencyKey") -> str:
    """A client's key for one request: 8 to 64 of A-Z a-z 0-9 _ -."""
    if not _KEY.fullmatch(value):
        raise UserError(
            ErrorCode.INVALID_IDEMPOTENCY_KEY,
            f"An idempotency key is {KEY_MIN} to {KEY_MAX} letters, digits, _ or -",
            field,
        )
    return value


def fingerprint(**request: Any) -> str:
    """What a request asked, as one digest: the same key must come with the same one."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
