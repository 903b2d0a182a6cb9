"""The payment provider, as the city uses it: a small interface (`PaymentProvider`) a city's
own bank adapter implements, and `HttpProvider`, which speaks docs/payments.md §2 to any
provider that implements it (the local one: `mycity provider serve`)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Protocol

import urllib3

TIMEOUT_S = 10.0  # a charge answered later than this is asked after, not waited for
POOL_SIZE = 64  # kept connections: the store's threads (32), and the sweeps' beside them


@dataclass(frozen=True)
class Settlement:
    """A charge or a refund as the provider answered it."""

    id: str
    status: str  # pending, succeeded, failed
    failure: str  # "" unless failed
    amount_fen: int
    settled_at: str  # ISO 8601; "" while pending
    reference: str = ""  # the city's id of the payment (a charge) or the refund
    charge_reference: str = ""  # a refund's: its charge's reference

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Settlement:
        """From the provider's JSON object; KeyError, TypeError or ValueError if it is not
        one."""
        return cls(
            id=str(raw["id"]),
            status=str(raw["status"]),
            failure=str(raw.get("failure") or ""),
            amount_fen=int(raw["amount_fen"]),
            settled_at=str(raw.get("settled_at") or ""),
            reference=str(raw.get("reference") or ""),
            charge_reference=str(raw.get("charge_reference") or ""),
        )


class ProviderRefused(Exception):
    """The provider answered, but not with the object: its status and error code."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(f"{status} {error}")
        self.status = status
        self.error = error


class ProviderUnreachable(Exception):
    """No answer in time: the request may or may not have been taken."""


class PaymentProvider(Protocol):
    def charge(
        self, *, key: str, payer: str, payee: str, amount_fen: int, description: str, reference: str
    ) -> Settlement: ...

    def get_charge(self, charge: str) -> Settlement: ...

    def refund(
        self, *, key: str, charge: str, amount_fen: int, reason: str, reference: str
    ) -> Settlement: ...

    def statement(self, day: dt.date) -> str:
        """The day's statement as CSV (docs/payments.md §2)."""
        ...


class HttpProvider:
    """A provider over HTTP, with pooled keep-alive connections (thread-safe): urllib3's pool,
    at half httpx's CPU a call (a charge makes one, on the till's critical path)."""

    def __init__(self, address: str, api_key: str, timeout: float = TIMEOUT_S) -> None:
        address = address.rstrip("/")
        self.prefix = urllib3.util.parse_url(address).path or ""  # a bank's API under a path
        self.pool = urllib3.connection_from_url(
            address,
            maxsize=POOL_SIZE,
            headers={"authorization": f"Bearer {api_key}"},
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            retries=False,  # a call is never re-sent unasked (the sweep asks after it)
        )

    def charge(
        self, *, key: str, payer: str, payee: str, amount_fen: int, description: str, reference: str
    ) -> Settlement:
        body = {
            "payer": payer,
            "payee": payee,
            "amount_fen": amount_fen,
            "currency": "CNY",
            "description": description,
            "reference": reference,
        }
        return Settlement.of(self._call("POST", "/v1/charges", body, key))

    def get_charge(self, charge: str) -> Settlement:
        return Settlement.of(self._call("GET", f"/v1/charges/{charge}"))

    def refund(
        self, *, key: str, charge: str, amount_fen: int, reason: str, reference: str
    ) -> Settlement:
        body = {
            "charge": charge,
            "amount_fen": amount_fen,
            "reason": reason,
            "reference": reference,
        }
        return Settlement.of(self._call("POST", "/v1/refunds", body, key))

    def statement(self, day: dt.date) -> str:
        answer = self._request("GET", f"/v1/statements/{day.isoformat()}")
        if answer.status != 200:
            raise ProviderRefused(answer.status, _error(answer))
        return answer.data.decode()

    def close(self) -> None:
        self.pool.close()

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, key: str | None = None
    ) -> dict[str, Any]:
        answer = self._request(method, path, body, key)
        if answer.status != 200:
            raise ProviderRefused(answer.status, _error(answer))
        try:
            found = json.loads(answer.data)
        except ValueError:
            found = None
        if not isinstance(found, dict):
            raise ProviderRefused(answer.status, "not an object")
        return found

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None, key: str | None = None
    ) -> urllib3.BaseHTTPResponse:
        headers = dict(self.pool.headers)
        if key:
            headers["idempotency-key"] = key
        if body is not None:
            headers["content-type"] = "application/json"
        try:
            return self.pool.request(
                method,
                self.prefix + path,
                body=None if body is None else json.dumps(body),
                headers=headers,
            )
        except urllib3.exceptions.HTTPError as e:
            raise ProviderUnreachable(str(e)) from None


def _error(answer: urllib3.BaseHTTPResponse) -> str:
    try:
        return str(json.loads(answer.data).get("error", ""))
    except (ValueError, AttributeError):
        return answer.data.decode(errors="replace")[:200]
