"""The local payment provider (docs/payments.md §2–3), run as its own process: `mycity provider
serve`. It is what the demo and the tests pay through, over HTTP, as the city pays through a
bank: the city holds its API key and its public key, never its books.

Its directory holds the API key the city sends as a bearer token (`api.key`), the Ed25519 seed
its notifications are signed with (`provider.key`), and its ledger (`provider_ledger.py`). A
thread beside the server settles pending charges when their time comes and delivers the
outbox's notifications, each attempt signed afresh (Standard Webhooks' `v1a`, so the city
checks it with the public key alone), retried on Standard Webhooks' schedule.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import re
import secrets
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mycity.integrations.provider_courier import Courier
from mycity.integrations.provider_ledger import Answer, Ledger, Message
from mycity.integrations.webhooks import public_key_text
from mycity.private import write_private, write_private_bytes

KEY_FILE = "provider.key"
API_KEY_FILE = "api.key"
MAX_BODY = 16 * 1024  # a charge's body is well under 1 KiB
POLL_S = 0.2
TIMEOUT_S = 5.0
# Standard Webhooks' schedule: the first attempt at once, each next this long after a failure.
RETRY_DELAYS_S = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
GIVE_UP = frozenset({400, 401})  # malformed, stale or forged: the same message cannot pass
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
Endpoint = Callable[[Request], Awaitable[Response]]

log = logging.getLogger(__name__)


class Provider:
    """The provider's keys and ledger, where it notifies, and how long charges stay pending."""

    def __init__(
        self,
        directory: Path,
        notify_url: str | None = None,
        settle_after: float = 0.0,
        retry_scale: float = 1.0,
    ) -> None:
        if notify_url is not None and urlsplit(notify_url).scheme not in ("http", "https"):
            raise ValueError(f"{notify_url} is not an http:// or https:// address")
        if settle_after < 0 or retry_scale <= 0:
            raise ValueError("settle_after is 0 or more seconds, retry_scale more than 0")
        self.ledger = Ledger(directory)
        self.key = _signing_key(directory / KEY_FILE)
        self.api_key = _api_key(directory / API_KEY_FILE)
        self.notify_url = notify_url
        self.settle_after = settle_after
        self.retry_scale = retry_scale

    @property
    def public_key(self) -> str:
        """What the city checks the notifications with (`whpk_…`)."""
        return public_key_text(self.key.public_key())

    def authorized(self, header: str | None) -> bool:
        expected = f"Bearer {self.api_key}".encode()
        return hmac.compare_digest((header or "").encode(), expected)

    def work(self, stop: threading.Event) -> None:
        """Settle and notify until stopped; a round that fails is logged, the next tries again."""
        courier = Courier(self.notify_url, self.key, TIMEOUT_S) if self.notify_url else None
        try:
            while not stop.wait(POLL_S):
                try:
                    if self.settle_after > 0:
                        self.ledger.settle_due()
                    if courier is not None:
                        for message in self.ledger.due_messages():
                            self._deliver(message, courier)
                except Exception:
                    log.exception("settling or notifying failed; trying again")
        finally:
            if courier is not None:
                courier.close()

    def _deliver(self, message: Message, courier: Courier) -> None:
        """One attempt at one message, and what it leaves to do: nothing, a retry, or none."""
        status = courier.post(message)
        attempts = message.attempts + 1
        if status is not None and (200 <= status < 300 or status == 409):
            self.ledger.delivered(message.id)
        elif status in GIVE_UP or attempts >= len(RETRY_DELAYS_S):
            log.warning(
                "notification %s given up after %d attempts (%s)", message.id, attempts, status
            )
            self.ledger.given_up(message.id)
        else:
            delay = RETRY_DELAYS_S[attempts] * self.retry_scale
            log.info("notification %s answered %s; again in %.0f s", message.id, status, delay)
            self.ledger.retry_later(message.id, delay)


def create_provider_app(provider: Provider) -> Starlette:
    ledger = provider.ledger

    async def create_charge(request: Request) -> Response:
        body = await _json(request)
        return await _answer(ledger.create_charge, _key(request), body, provider.settle_after)

    async def get_charge(request: Request) -> Response:
        return await _answer(ledger.get_charge, request.path_params["charge_id"])

    async def create_refund(request: Request) -> Response:
        return await _answer(ledger.create_refund, _key(request), await _json(request))

    async def statement(request: Request) -> Response:
        day = _day(request.path_params["day"])
        if day is None:
            return _error(400, "invalid_request", "a day is written YYYY-MM-DD")
        return Response(await run_in_threadpool(ledger.statement, day), media_type="text/csv")

    async def open_account(request: Request) -> Response:
        return await _answer(ledger.open_account, await _json(request))

    async def get_account(request: Request) -> Response:
        return await _answer(ledger.get_account, request.path_params["account_id"])

    async def deposit(request: Request) -> Response:
        account_id = request.path_params["account_id"]
        return await _answer(ledger.deposit, _key(request), account_id, await _json(request))

    def authorized(endpoint: Endpoint) -> Endpoint:
        """The API key first; a body refused before the ledger was asked, answered here."""

        async def answer(request: Request) -> Response:
            if not provider.authorized(request.headers.get("authorization")):
                return _error(401, "unauthorized")
            try:
                return await endpoint(request)
            except _Refused as refused:
                return refused.response

        return answer

    async def webhook_key(request: Request) -> Response:
        return PlainTextResponse(f"{provider.public_key}\n")

    async def http_error(request: Request, error: Exception) -> Response:
        code = error.status_code if isinstance(error, HTTPException) else 500
        return _error(code, {404: "not_found", 405: "method_not_allowed"}.get(code, "error"))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = threading.Event()
        worker = threading.Thread(
            target=provider.work, args=(stop,), name="provider-worker", daemon=True
        )
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join(timeout=2 * TIMEOUT_S)  # a delivery under way ends within its timeout
            ledger.close()

    api = [
        ("/v1/charges", create_charge, "POST"),
        ("/v1/charges/{charge_id}", get_charge, "GET"),
        ("/v1/refunds", create_refund, "POST"),
        ("/v1/statements/{day}", statement, "GET"),
        ("/v1/accounts", open_account, "POST"),
        ("/v1/accounts/{account_id}", get_account, "GET"),
        ("/v1/accounts/{account_id}/deposits", deposit, "POST"),
    ]
    return Starlette(
        routes=[
            *(
                Route(path, authorized(endpoint), methods=[method])
                for path, endpoint, method in api
            ),
            Route("/webhook-key", webhook_key),
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )


class _Refused(Exception):
    """A request answered before the ledger is asked: too long, or not JSON."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _answer(call: Callable[..., Answer], *args: Any) -> Response:
    """The ledger's answer, asked on a thread: it waits for SQLite's lock."""
    status, body = await run_in_threadpool(call, *args)
    return JSONResponse(body, status_code=status)


async def _json(request: Request) -> Any:
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY:
        raise _Refused(_error(413, "too_large"))
    body = b""
    async for chunk in request.stream():  # whatever the header said, no more than this
        body += chunk
        if len(body) > MAX_BODY:
            raise _Refused(_error(413, "too_large"))
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past all reason
        raise _Refused(_error(400, "invalid_request", "the body is not JSON in UTF-8")) from None


def _key(request: Request) -> str:
    return request.headers.get("idempotency-key", "")


def _day(text: str) -> date | None:
    if not _DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _error(status: int, error: str, detail: str | None = None) -> JSONResponse:
    body = {"error": error} | ({"detail": detail} if detail else {})
    return JSONResponse(body, status_code=status)


def _signing_key(path: Path) -> Ed25519PrivateKey:
    """The provider's own key, made on its first start and kept (readable by it alone)."""
    if not path.exists():
        write_private_bytes(path, Ed25519PrivateKey.generate().private_bytes_raw())
    return Ed25519PrivateKey.from_private_bytes(path.read_bytes())


def _api_key(path: Path) -> str:
    if not path.exists():
        write_private(path, secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip()
