"""Per-request context: the city, the caller, and what this request has written.

The caller comes from a bearer token (HTTP) or the WebSocket `connection_init` payload.
A mutation notes the position of its last event (`wrote`); from then on every read of a
read model in this request waits until that read model includes it (read-your-writes),
and only for the read models actually read: a payload field nobody asks for waits for
nothing, and a command that reads nothing back does not wait at all.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any, TypeVar

import strawberry
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from mycity.bootstrap import City
from mycity.domain.errors import ErrorCode, Unauthenticated, UserError
from mycity.graphql.feed import FileFeed
from mycity.identity.principal import Principal
from mycity.identity.tokens import ExpiredToken

T = TypeVar("T")

# The argument of every root field that reads someone's data.
PURPOSE = strawberry.argument(
    description="Why you read this: staff and partners must say; it is recorded with the "
    "read and shown to the person (4 to 200 characters)."
)


# The threads store-bound calls run in, off the event loop: asyncio's own executor is a
# lighter hop than anyio's (no limiter, no cancel scope), and a read takes two of them.
STORE_THREAD_NAME = "store"
STORE_THREADS = ThreadPoolExecutor(max_workers=32, thread_name_prefix=STORE_THREAD_NAME)


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a store-bound call off the event loop, in this request's context."""
    call = contextvars.copy_context().run
    return await asyncio.get_running_loop().run_in_executor(
        STORE_THREADS, partial(call, fn, *args, **kwargs)
    )


@dataclass
class Context:
    city: City
    feed: FileFeed
    request: Request | WebSocket
    response: Any = None
    connection_params: dict[str, Any] | None = field(default=None)
    written: int = 0  # the position of the last event this request's mutations saved
    lagging: set[str] = field(default_factory=set)  # read models read before they caught up

    @cached_property
    def caller(self) -> Caller:
        """Who sent this request: the `Authorization` header, or on a WebSocket without it,
        the `authorization` of the `connection_init` payload."""
        header = self.request.headers.get("authorization")
        if header is None and self.connection_params:
            return identify(self.city, authorization(self.connection_params), IN_CONNECTION_INIT)
        return identify(self.city, header)

    @property
    def principal(self) -> Principal | None:
        """The verified caller, or None (no token, or one that names nobody)."""
        return self.caller.principal

    @property
    def token(self) -> str | None:
        return self.caller.token

    def signed_in_as(self, principal: Principal) -> None:
        """From here on this request acts as a caller who has just signed up."""
        self.__dict__["caller"] = Caller(principal)

    @property
    def origin(self) -> str | None:
        """The client address the request came from (behind a proxy, as uvicorn's
        `--forwarded-allow-ips` lets it read it from the proxy's headers)."""
        client = self.request.client
        return client.host if client else None

    def require(self) -> Principal:
        return self.caller.require()

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


IN_HEADER = "Send the access token as the header `Authorization: Bearer <access token>`"
IN_CONNECTION_INIT = (
    'Send the access token in connection_init as {"authorization": "Bearer <access token>"}'
)


@dataclass(frozen=True)
class Caller:
    """Who sent a request: the principal its token names, or, when credentials were sent
    but name nobody, the refusal that says what to do (whatever needs a caller raises it)."""

    principal: Principal | None = None
    token: str | None = None
    refusal: UserError | None = None

    def require(self) -> Principal:
        """The principal; else UNAUTHENTICATED (TOKEN_EXPIRED for an expired token, so that
        the app refreshes it rather than asking to sign in again)."""
        if self.principal is not None:
            return self.principal
        raise self.refusal or Unauthenticated()


def identify(city: City, credentials: Any, how_to_send: str = IN_HEADER) -> Caller:
    """The caller named by credentials in the Bearer scheme (RFC 6750; the scheme's name in
    any case, as RFC 9110 has it); credentials in another form are refused with
    `how_to_send`, rather than taken for no credentials."""
    if credentials is None:
        return Caller()
    scheme, _, token = str(credentials).strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return Caller(refusal=Unauthenticated(how_to_send))
    try:
        return Caller(city.tokens.verify(token), token)
    except ExpiredToken:
        expired = UserError(ErrorCode.TOKEN_EXPIRED, "The access token has expired: refresh it")
        return Caller(token=token, refusal=expired)
    except UserError as e:
        return Caller(token=token, refusal=Unauthenticated(e.message))


def authorization(payload: dict[str, Any]) -> Any:
    """The `authorization` of a connection_init payload, its key in any case as a header's."""
    return next((v for k, v in payload.items() if str(k).lower() == "authorization"), None)


Info = StrawberryInfo[Context, None]


def lag_report(context: Any) -> dict[str, Any]:
    """An answer read from read models that had not caught up with its own writes says so,
    in the response's `extensions.readModelsLag` (the names), so the app can ask again."""
    lagging = getattr(context, "lagging", None)
    return {"readModelsLag": sorted(lagging)} if lagging else {}
