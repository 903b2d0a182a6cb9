"""Per-request context: the city, the caller, and what this request has written.

The caller comes from a bearer token (HTTP) or the WebSocket `connection_init` payload.
A mutation notes the position of its last event (`wrote`); from then on every read of a
read model in this request waits until that read model includes it (read-your-writes),
and only for the read models actually read: a payload field nobody asks for waits for
nothing, and a command that reads nothing back does not wait at all.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import strawberry
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types import Info as StrawberryInfo

from mycity.bootstrap import City
from mycity.domain.errors import ErrorCode, Unauthenticated, UserError
from mycity.graphql.feed import FileFeed
from mycity.identity.principal import Principal
from mycity.identity.tokens import ExpiredToken
from mycity.policy.base import require

T = TypeVar("T")

# The argument of every root field that reads someone's data.
PURPOSE = strawberry.argument(
    description="Why you read this: staff and partners must say; it is recorded with the "
    "read and shown to the person (4 to 200 characters)."
)


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a store-bound call off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)


@dataclass
class Context:
    city: City
    feed: FileFeed
    request: Request | WebSocket
    response: Any = None
    connection_params: dict[str, Any] | None = field(default=None)
    written: int = 0  # the position of the last event this request's mutations saved
    token: str | None = None
    token_expired: bool = False
    lagging: set[str] = field(default_factory=set)  # read models read before they caught up

    @cached_property
    def principal(self) -> Principal | None:
        """The verified caller, or None: a missing, expired or forged token is no caller,
        and whatever needs one answers UNAUTHENTICATED (TOKEN_EXPIRED for an expired one,
        so that the app refreshes it rather than asking to sign in again)."""
        token = _bearer(self.request.headers.get("authorization"))
        if token is None and self.connection_params:
            token = _bearer(self.connection_params.get("authorization"))
        if token is None:
            return None
        self.token = token
        try:
            return self.city.tokens.verify(token)
        except ExpiredToken:
            self.token_expired = True
            return None
        except UserError:
            return None

    def signed_in_as(self, principal: Principal) -> None:
        """From here on this request acts as a caller who has just signed up."""
        self.__dict__["principal"] = principal

    @property
    def origin(self) -> str | None:
        """The client address the request came from (behind a proxy, as uvicorn's
        `--forwarded-allow-ips` lets it read it from the proxy's headers)."""
        client = self.request.client
        return client.host if client else None

    def require(self) -> Principal:
        if self.principal is None and self.token_expired:
            raise UserError(ErrorCode.TOKEN_EXPIRED, "The access token has expired: refresh it")
        return require(self.principal)

    async def while_signed_in(self, stream: AsyncIterator[T]) -> AsyncIterator[T]:
        """The stream, for as long as the caller's token is good: it ends with TOKEN_EXPIRED
        when the token expires, and with INVALID_TOKEN once the session was ended."""
        if self.token is None:
            raise Unauthenticated()
        tokens, token = self.city.tokens, self.token
        try:
            while True:
                left = tokens.expires_at(token) - time.time()
                try:
                    if left <= 0:
                        raise TimeoutError
                    item = await asyncio.wait_for(anext(stream), left)
                except TimeoutError:
                    raise UserError(
                        ErrorCode.TOKEN_EXPIRED, "The access token has expired"
                    ) from None
                tokens.verify(token)
                yield item
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    def wrote(self, position: int) -> None:
        self.written = max(self.written, position)

    async def settled(self, *read_models: str) -> None:
        """Wait, holding no thread, until these read models include what this request
        wrote: for an answer whose effect others read from them (a status list)."""
        if self.written and not await self.city.read_models.reached(
            self.written, *read_models, blocking=blocking
        ):
            self.lagging.update(read_models)

    async def read(self, read: Callable[..., T], *args: Any) -> T:
        """Call a read of `mycity.reads` off the loop, once the read models its class reads
        (its `read_models`) include what this request wrote."""
        if self.written:
            reads = getattr(read, "__self__")  # noqa: B009  # the reads object it is bound to
            caught_up = await self.city.read_models.reached(
                self.written, *reads.read_models, blocking=blocking
            )
            if not caught_up:
                self.lagging.update(reads.read_models)
        return await blocking(read, *args)


def bearer_principal(city: City, request: Request) -> Principal | None:
    """The caller an HTTP request's bearer token names (outside GraphQL: uploads)."""
    token = _bearer(request.headers.get("authorization"))
    if token is None:
        return None
    try:
        return city.tokens.verify(token)
    except UserError:
        return None


def _bearer(value: Any) -> str | None:
    if isinstance(value, str) and value.lower().startswith("bearer "):
        return value[7:].strip() or None
    return None


Info = StrawberryInfo[Context, None]


class ReportLag(SchemaExtension):
    """An answer read from read models that had not caught up with its own writes says so,
    in the response's `extensions.readModelsLag` (the names), so the app can ask again."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        lagging = getattr(context, "lagging", None)
        return {"readModelsLag": sorted(lagging)} if lagging else {}
