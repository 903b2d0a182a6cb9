"""User errors in payloads, and the typed ids inputs carry."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

import strawberry
from strawberry import relay

from mycity.domain.errors import ErrorCode
from mycity.domain.errors import UserError as DomainUserError
from mycity.graphql.shapes import shaped

strawberry.enum(ErrorCode)

P = TypeVar("P")


@strawberry.type
class UserError:
    """Something the user can fix: which input field, a stable code, and a message."""

    field: str | None
    code: ErrorCode
    message: str

    @classmethod
    def of(cls, error: DomainUserError) -> UserError:
        return shaped(cls, error)


def reports_user_errors(
    payload: type[P],
) -> Callable[[Callable[..., Awaitable[P]]], Callable[..., Awaitable[P]]]:
    """Turn a refusal into the payload's `userErrors` instead of a GraphQL error."""

    def decorate(resolver: Callable[..., Awaitable[P]]) -> Callable[..., Awaitable[P]]:
        @functools.wraps(resolver)
        async def wrapper(*args: Any, **kwargs: Any) -> P:
            try:
                return await resolver(*args, **kwargs)
            except DomainUserError as e:
                return payload(user_errors=[UserError.of(e)])  # type: ignore[call-arg]

        return wrapper

    return decorate


def parse_id(gid: relay.GlobalID, type_name: str, field: str) -> UUID:
    """A global id of the expected type, or an INVALID_ID user error."""
    try:
        if gid.type_name != type_name:
            raise ValueError(gid.type_name)
        return UUID(gid.node_id)
    except ValueError:
        raise DomainUserError(ErrorCode.INVALID_ID, f"Not a {type_name} id", field) from None
