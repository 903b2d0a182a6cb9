"""Keyset pages: a list resumes after the row a cursor names, never at an offset.

A cursor is the row's sort keys joined by "|" (ids, ISO dates and moments never contain
one), so a page costs the same however deep into the list it is.
"""

from __future__ import annotations

from typing import Any

from mycity.domain.errors import ErrorCode, UserError
from mycity.projections.store import LiveRows, Row


def cursor(*parts: str) -> str:
    """A keyset as the readers take it: its parts joined by "|"."""
    return "|".join(parts)


def keyset(after: str | None, parts: int) -> list[str] | None:
    """The keyset a page resumes after, from a cursor of `parts` parts (None: the start)."""
    if after is None:
        return None
    found = after.split("|")
    if len(found) != parts:
        raise UserError(ErrorCode.INVALID_ARGUMENT, "Not a cursor from this list", "after")
    return found


def descending_after(after: str | None, columns: tuple[str, str]) -> tuple[str, list[Any]]:
    """The condition of a newest-first page: rows before the keyset `(moment, id)`."""
    found = keyset(after, 2)
    if found is None:
        return "", []
    moment, key = columns
    return f" AND ({moment} < ? OR ({moment} = ? AND {key} < ?))", [found[0], found[0], found[1]]


def newest_first(
    rows: LiveRows, where: str, params: list[Any], moment: str, first: int, after: str | None
) -> list[Row]:
    """Up to `first` rows matching `where`, newest first by `moment` (then by id), from
    after the cursor `"moment|id"`."""
    condition, more = descending_after(after, (moment, "id"))
    return rows.select(
        f"WHERE {where}{condition} ORDER BY {moment} DESC, id DESC LIMIT ?",
        [*params, *more, first],
    )
