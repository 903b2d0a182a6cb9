"""Per-request context: the city, and the caller, from a bearer token or WebSocket init."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from mycity.bootstrap import City
from mycity.domain.errors import UserError
from mycity.graphql.feed import FileFeed
from mycity.identity import policy
from mycity.identity.principal import Principal

T = TypeVar("T")


@dataclass
class Context:
    city: City
    feed: FileFeed
    request: Request | WebSocket
    response: Any = None
    connection_params: dict[str, Any] | None = field(default=None)

    @cached_property
    def principal(self) -> Principal | None:
        """The verified caller, or None: a missing, expired or forged token is no caller,
        and whatever needs one answers UNAUTHENTICATED."""
        token = _bearer(self.request.headers.get("authorization"))
        if token is None and self.connection_params:
            token = _bearer(self.connection_params.get("authorization"))
        if token is None:
            return None
        try:
            return self.city.tokens.verify(token)
        except UserError:
            return None

    def signed_in_as(self, principal: Principal) -> None:
        """From here on this request acts as a caller who has just signed up."""
        self.__dict__["principal"] = principal

    def require(self) -> Principal:
        return policy.require(self.principal)


def _bearer(value: Any) -> str | None:
    if isinstance(value, str) and value.lower().startswith("bearer "):
        return value[7:].strip() or None
    return None


Info = StrawberryInfo[Context, None]


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a store-bound call off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)
