"""What a GraphQL request may carry before it is executed at all.

Its body is a JSON object (not `null`, not a string), and nothing in it may be text that no
store can keep: a lone surrogate (not Unicode) or a NUL (PostgreSQL refuses it). Such a
request is refused whole with 400, rather than reaching a resolver, a hash or a query and
failing there as an internal error.
"""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException


def refuse_unstorable(value: Any) -> None:
    """Raise 400 if any string in the value (keys too) is not storable text."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            _check(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _check(text: str) -> None:
    if "\x00" in text:
        raise HTTPException(400, "A string in the request holds a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise HTTPException(400, "A string in the request is not valid Unicode") from None
