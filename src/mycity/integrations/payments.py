"""The payment provider, as the city uses it: a small interface (`PaymentProvider`) a city's
own bank adapter implements, and `HttpProvider`, which speaks docs/payments.md §2 to any
provider that implements it (the local one: `mycity provider serve`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

TIMEOUT_S = 10.0  # a charge answered later than this is asked after, not waited for


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
    """A provider over HTTP, with pooled keep-alive connections (thread-safe)."""

    def __init__(self, address: str, api_key: str, timeout: float = TIMEOUT_S) -> None:
        self.client = httpx.Client(
            base_url=address.rstrip("/"),
            headers={"authorization": f"Bearer {api_key}"},
            timeout=timeout,
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
        try:
            answer = self.client.get(f"/v1/statements/{day.isoformat()}")
        except httpx.HTTPError as e:
            raise ProviderUnreachable(str(e)) from None
        if answer.status_code != 200:
            raise ProviderRefused(answer.status_code, _error(answer))
        return answer.text

    def close(self) -> None:
        self.client.close()

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, key: str | None = None
    ) -> dict[str, Any]:
        headers = {"idempotency-key": key} if key else {}
        try:
            answer = self.client.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as e:
            raise ProviderUnreachable(str(e)) from None
        if answer.status_code != 200:
            raise ProviderRefused(answer.status_code, _error(answer))
        found = answer.json()
        if not isinstance(found, dict):
            raise ProviderRefused(answer.status_code, "not an object")
        return found


def _error(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("error", ""))
    except ValueError:
        return answer.text[:200]
