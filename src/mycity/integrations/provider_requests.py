"""What a request to the local payment provider must be (docs/payments.md §2), read from its
parsed JSON body before the ledger is touched: a body that is not so is `invalid_request`,
and leaves its idempotency key unused.

One amount is a whole number of fen (not a bool, not a fraction) from 1 to MAX_AMOUNT_FEN,
the provider's own cap: 10,000,000,000 fen (100,000,000 CNY), far above any city's ceiling
(§1) and far below what SQLite's 64-bit integers hold summed over the ledger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_AMOUNT_FEN = 10_000_000_000
MAX_DESCRIPTION = 128  # a charge's description, a refund's reason
MAX_REFERENCE = 64
_ACCOUNT = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")
_CHARGE_ID = re.compile(r"ch_[0-9a-f]{24}")


class InvalidRequest(ValueError):
    """A request that is not as the protocol has it; its message says what is wrong."""


@dataclass(frozen=True)
class AccountRequest:
    id: str
    kind: str


@dataclass(frozen=True)
class ChargeRequest:
    payer: str
    payee: str
    amount: int
    description: str
    reference: str  # the city's id of the payment


@dataclass(frozen=True)
class RefundRequest:
    charge: str
    amount: int
    reason: str | None
    reference: str  # the city's id of the refund


def idempotency_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise InvalidRequest("Idempotency-Key is 8 to 64 characters of A-Z a-z 0-9 _ -")
    return key


def account_request(body: object) -> AccountRequest:
    fields = _fields(body, {"id", "kind"})
    if fields["kind"] not in ("payer", "payee"):
        raise InvalidRequest("kind is payer or payee")
    return AccountRequest(_account_id(fields, "id"), fields["kind"])


def deposit_amount(body: object) -> int:
    return _amount(_fields(body, {"amount_fen"}))


def charge_request(body: object) -> ChargeRequest:
    fields = _fields(body, {"payer", "payee", "amount_fen", "currency", "description", "reference"})
    request = ChargeRequest(
        payer=_account_id(fields, "payer"),
        payee=_account_id(fields, "payee"),
        amount=_amount(fields),
        description=_text(fields, "description", MAX_DESCRIPTION),
        reference=_text(fields, "reference", MAX_REFERENCE),
    )
    if fields["currency"] != "CNY":
        raise InvalidRequest("currency is CNY")
    if request.payer == request.payee:
        raise InvalidRequest("the payer is the payee")
    return request


def refund_request(body: object) -> RefundRequest:
    fields = _fields(body, {"charge", "amount_fen", "reference"}, {"reason"})
    charge = fields["charge"]
    if not isinstance(charge, str) or not _CHARGE_ID.fullmatch(charge):
        raise InvalidRequest("charge is a charge's id: ch_ and 24 hex digits")
    return RefundRequest(
        charge=charge,
        amount=_amount(fields),
        reason=None if fields["reason"] is None else _text(fields, "reason", MAX_DESCRIPTION),
        reference=_text(fields, "reference", MAX_REFERENCE),
    )


def _fields(
    body: object, required: set[str], optional: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """The body's fields, an optional one absent as None; none but these."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body is a JSON object")
    if missing := sorted(required - body.keys()):
        raise InvalidRequest(f"missing: {', '.join(missing)}")
    if unknown := sorted(str(name) for name in body.keys() - required - optional):
        raise InvalidRequest(f"not a field: {', '.join(unknown)}")
    return {name: body.get(name) for name in required | optional}


def _amount(fields: dict[str, Any]) -> int:
    amount = fields["amount_fen"]
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT_FEN:
        raise InvalidRequest(f"amount_fen is a whole number of fen, 1 to {MAX_AMOUNT_FEN}")
    return amount


def _account_id(fields: dict[str, Any], name: str) -> str:
    value = fields[name]
    if not isinstance(value, str) or not _ACCOUNT.fullmatch(value):
        raise InvalidRequest(f"{name} is 1 to 64 characters of A-Z a-z 0-9 _ . : -")
    return value


def _text(fields: dict[str, Any], name: str, limit: int) -> str:
    """A text; a lone surrogate is refused (it cannot be stored as UTF-8)."""
    value = fields[name]
    if not isinstance(value, str) or len(value) > limit or not _utf8(value):
        raise InvalidRequest(f"{name} is text of at most {limit} characters")
    return value


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
