"""Checking the stored log against its Merkle tree, to find direct edits in the database.

The tree's leaves were hashed from the events as the follower read them. A check hashes the
events table again as it is now, in position order, and compares the two leaf by leaf, by
position: a missing or an extra row shows as itself instead of shifting everything after it,
and since every leaf binds its position, a row moved elsewhere matches nothing. The root
recomputed at an exported checkpoint's size is compared with the checkpoint's, which still
holds when the tree's own tables were rewritten to match. Rows after the tree's last leaf
and past the checkpoint are new history, not tampering.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from mycity.projections.merkle import MerkleTree
from mycity.projections.tiles import fold
from mycity.store.sql import Database
from mycity.verifier.merkle import leaf_hash, node_hash, root_hash
from mycity.verifier.records import leaf_data

# The leaf of a record no recorder writes (a NULL, an id that is no UUID): it matches no
# leaf, since every real one hashes data that starts with the records' tag.
UNREADABLE = leaf_hash(b"")

Checkpoint = tuple[int, bytes]  # (size, root)


@dataclass(frozen=True)
class LogCheck:
    ok: bool
    events: int  # the events checked: the whole log, up to its head when the check began
    first_bad_position: int | None  # None when fine, or when no one position is to blame
    problem: str | None  # one line, for people


def check_log(
    files: Any,
    tree: MerkleTree,
    *,
    expected: Checkpoint | None = None,
    progress: Callable[[int, int], None] | None = None,
    page_size: int = 10_000,
) -> LogCheck:
    """Recompute the tree from the stored events and compare it with the stored tree and
    with `expected`, an exported checkpoint; the first problem in log order is reported.
    `progress` hears the position reached and the head after each page."""
    tree_size = tree.size()  # before the head: every leaf of the tree is at or below it
    head = files.head()
    problem = _FirstProblem()
    roots = _Roots()
    tree_root = root_hash([])

    def at_checkpoint() -> None:
        if expected is not None and roots.count == expected[0] and roots.root() != expected[1]:
            problem.found(
                None, f"the first {expected[0]} events no longer hash to the checkpoint's root"
            )

    at_checkpoint()
    stored = tree.leaves(tree_size)
    mark = next(stored, None)
    last = 0
    for record in _records(files, tree.db, head, page_size, progress):
        position = record["position"]
        leaf = _leaf(record, position)
        while mark is not None and mark[0] < position:
            problem.found(mark[0], f"position {mark[0]} is missing (deleted)")
            mark = next(stored, None)
        if mark is not None and mark[0] == position:
            if mark[1] != leaf:
                problem.changed(position, record, mark[1])
            mark = next(stored, None)
        elif mark is not None:
            problem.found(position, f"position {position} was not in the tree (inserted)")
        roots.add(leaf)
        last = position
        at_checkpoint()
        if roots.count == tree_size:
            tree_root = roots.root()
    covers = None
    if expected is not None and roots.count < expected[0]:
        covers = f"the checkpoint covers {expected[0]}"
    elif mark is not None:
        covers = f"the tree covers {tree_size}"
    if covers:
        problem.found(
            None if mark is None else mark[0],
            f"the log ends at position {last} but {covers} events (truncated)",
        )
    if problem.problem is None and tree.root(tree_size) != tree_root:
        problem.found(None, "the tree's stored tiles do not hash to its own leaves")
    return LogCheck(problem.problem is None, roots.count, problem.position, problem.problem)


def _records(
    files: Any,
    db: Database,
    head: int,
    page_size: int,
    progress: Callable[[int, int], None] | None,
) -> Iterator[Any]:
    """The stored events up to `head` in position order, as rows straight from the table,
    `page_size` at a time."""
    table = db.table(files.recorder.events_table_name)
    if db.dialect == "postgres":
        column, values = "notification_id", "originator_id, originator_version, topic, state"
    else:  # as bytes: an edit may leave text that is no UTF-8, which would not even be read
        column = "rowid"
        values = (
            "CAST(originator_id AS BLOB) AS originator_id, originator_version, "
            "CAST(topic AS BLOB) AS topic, CAST(state AS BLOB) AS state"
        )
    select = (
        f"SELECT {column} AS position, {values} "
        f"FROM {table} WHERE {column} > ? AND {column} <= ? ORDER BY {column} LIMIT ?"
    )
    position = 0
    while position < head:
        with db.read() as cur:
            page = cur.execute(select, (position, head, page_size)).fetchall()
        if not page:
            return
        yield from page
        position = page[-1]["position"]
        if progress:
            progress(position, head)


def _leaf(record: Any, position: int) -> bytes:
    """The leaf of a stored record, as it would be at `position`."""
    stream, topic = record["originator_id"], record["topic"]
    try:
        return leaf_hash(
            leaf_data(
                position,
                stream if isinstance(stream, UUID) else UUID(bytes(stream).decode()),
                record["originator_version"],
                topic if isinstance(topic, str) else bytes(topic).decode(),
                bytes(record["state"]),
            )
        )
    except (TypeError, ValueError, AttributeError, struct.error):
        return UNREADABLE


class _FirstProblem:
    """The first problem found, in log order. The first changed record is kept in mind: if
    the next changed record is one that swapped places with it, the two are out of order."""

    def __init__(self) -> None:
        self.position: int | None = None
        self.problem: str | None = None
        self._changed: tuple[int, Any, bytes] | None = None

    def found(self, position: int | None, problem: str) -> None:
        if self.problem is None:
            self.position, self.problem = position, problem

    def changed(self, position: int, record: Any, stored_leaf: bytes) -> None:
        earlier = self._changed
        if self.problem is None:
            self.found(position, f"position {position} was changed after it was recorded")
            self._changed = (position, record, stored_leaf)
            return
        self._changed = None
        if earlier is None:
            return
        first, first_record, first_leaf = earlier
        if _leaf(first_record, position) == stored_leaf and _leaf(record, first) == first_leaf:
            self.problem = f"positions {first} and {position} are out of order"


class _Roots:
    """The root of the leaves added so far, from the stack of their complete subtrees."""

    def __init__(self) -> None:
        self.count = 0
        self._stack: list[bytes] = []

    def add(self, leaf: bytes) -> None:
        self.count += 1
        for _ in range((self.count & -self.count).bit_length() - 1):
            leaf = node_hash(self._stack.pop(), leaf)
        self._stack.append(leaf)

    def root(self) -> bytes:
        return fold(self._stack) if self._stack else root_hash([])
