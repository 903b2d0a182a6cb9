"""Relay connections: every list in the API pages with a capped `first` and opaque cursors.

A cursor is the base64 of a JSON list: the keyset a query resumes after (the directory's
`[name_key, id]`), or the offset into a list a read-model row holds (`[offset]`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import strawberry
from strawberry import relay

from mycity.domain.errors import ErrorCode, UserError

T = TypeVar("T")

MAX_PAGE = 100


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: relay.PageInfo


def encode_cursor(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


MAX_CURSOR = 400  # characters: a cursor of ours is far shorter


def decode_cursor(cursor: str, *shape: type) -> list[Any]:
    """The position in a cursor, whose items must have the given types."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError(cursor)
        position = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, RecursionError):  # UnicodeError and JSON errors are ValueErrors
        position = None
    if (
        not isinstance(position, list)
        or len(position) != len(shape)
        or not all(type(item) is kind for item, kind in zip(position, shape, strict=True))
    ):
        raise UserError(ErrorCode.INVALID_ARGUMENT, "Not a cursor from this list", "after")
    return position


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise UserError(ErrorCode.INVALID_ARGUMENT, f"first must be 1 to {MAX_PAGE}", "first")
    return first


def connection(
    found: Sequence[tuple[list[Any], T]], first: int, after: str | None
) -> Connection[T]:
    """A page from up to `first + 1` (position, node) pairs: the extra one says there is more."""
    edges = [Edge(cursor=encode_cursor(position), node=node) for position, node in found[:first]]
    return Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=len(found) > first,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def list_page(nodes: Sequence[T], first: int, after: str | None) -> Connection[T]:
    """A page of a list already in memory (one read-model row's list)."""
    start = 0 if after is None else max(decode_cursor(after, int)[0] + 1, 0)
    window = nodes[start : start + check_first(first) + 1]
    return connection([([start + i], n) for i, n in enumerate(window)], first, after)


def keyed_page(nodes: Sequence[tuple[str, T]], first: int, after: str | None) -> Connection[T]:
    """A page from up to `first + 1` nodes, each with the keyset its reader resumes after."""
    return connection([([key], node) for key, node in nodes], first, after)


def keyset(after: str | None) -> str | None:
    """The keyset of a cursor made by `keyed_page`."""
    return decode_cursor(after, str)[0] if after else None
