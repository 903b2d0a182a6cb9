"""Direct edits of the events table, found by `check_log` at the exact first bad position."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest

from mycity.bootstrap import City
from mycity.projections.log_check import LogCheck, check_log
from mycity.projections.merkle import MerkleTree
from tests.helpers import CitizenFactory
from tests.test_merkle_tree import a_gap_before, built_tree, events_table, stored_leaves

GAP = 3  # free positions left after the first 16 events


@dataclass(frozen=True)
class Log:
    city: City
    tree: MerkleTree
    positions: list[int]  # of the stored events, as the tree recorded them
    checkpoint: tuple[int, bytes]  # (size, root) as exported

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        """Run raw SQL on the events table: `{t}` is its name, `{p}` its position column."""
        table, column = events_table(self.city)
        with self.city.db.transaction() as cur:
            cur.execute(statement.format(t=table, p=column), params)

    def state(self, position: int) -> bytes:
        table, column = events_table(self.city)
        with self.city.db.read() as cur:
            row = cur.execute(f"SELECT state FROM {table} WHERE {column} = ?", (position,))
            return bytes(row.fetchone()["state"])

    def stream(self, stream: UUID) -> Any:
        """An originator id as the store keeps it: a uuid, or its hex on SQLite."""
        return stream if self.city.db.dialect == "postgres" else stream.hex

    def check(self) -> LogCheck:
        return check_log(self.city.files, self.tree, expected=self.checkpoint)


@pytest.fixture
def log(city: City, people: CitizenFactory) -> Log:
    """24 events at positions 1-16 and 20-27, in the tree and in an exported checkpoint."""
    for i in range(8):
        people.register(f"账{i}")
    with a_gap_before(city, GAP):
        for i in range(4):
            people.register(f"账后{i}")
    tree = built_tree(city, page_size=5)
    positions = [p for p, _ in stored_leaves(city)]
    assert positions == [*range(1, 17), *range(20, 28)]
    return Log(city, tree, positions, (tree.size(), tree.root()))


def change_a_state_byte(log: Log) -> tuple[int, str]:
    state = bytearray(log.state(5))
    state[len(state) // 2] ^= 0x01
    log.sql("UPDATE {t} SET state = ? WHERE {p} = 5", (bytes(state),))
    return 5, "position 5 was changed after it was recorded"


def change_a_topic(log: Log) -> tuple[int, str]:
    log.sql("UPDATE {t} SET topic = topic || 'x' WHERE {p} = 6")
    return 6, "position 6 was changed after it was recorded"


def change_a_version(log: Log) -> tuple[int, str]:
    log.sql("UPDATE {t} SET originator_version = originator_version + 100 WHERE {p} = 7")
    return 7, "position 7 was changed after it was recorded"


def change_a_stream(log: Log) -> tuple[int, str]:
    log.sql("UPDATE {t} SET originator_id = ? WHERE {p} = 21", (log.stream(uuid4()),))
    return 21, "position 21 was changed after it was recorded"


def delete_a_row(log: Log) -> tuple[int, str]:
    log.sql("DELETE FROM {t} WHERE {p} = 9")
    return 9, "position 9 is missing (deleted)"


def insert_a_row(log: Log) -> tuple[int, str]:
    """A copy of another event under a new stream, into the gap the tree skipped."""
    log.sql(
        "INSERT INTO {t} ({p}, originator_id, originator_version, topic, state) "
        "SELECT 18, ?, originator_version, topic, state FROM {t} WHERE {p} = 3",
        (log.stream(uuid4()),),
    )
    return 18, "position 18 was not in the tree (inserted)"


def swap(first: int, second: int) -> Callable[[Log], tuple[int, str]]:
    def swap_two_rows(log: Log) -> tuple[int, str]:
        for moved, to in ((first, -1), (second, first), (-1, second)):
            log.sql("UPDATE {t} SET {p} = ? WHERE {p} = ?", (to, moved))
        return first, f"positions {first} and {second} are out of order"

    return swap_two_rows


def truncate_the_tail(log: Log) -> tuple[int, str]:
    log.sql("DELETE FROM {t} WHERE {p} > 22")
    return 23, "the log ends at position 22 but the checkpoint covers 24 events (truncated)"


TAMPERING = {
    "a changed state byte": (change_a_state_byte, 24),
    "a changed topic": (change_a_topic, 24),
    "a changed version": (change_a_version, 24),
    "a changed stream": (change_a_stream, 24),
    "a deleted row": (delete_a_row, 23),
    "an inserted row": (insert_a_row, 25),
    "two neighbours swapped": (swap(11, 12), 24),
    "two rows far apart swapped": (swap(4, 22), 24),
    "a truncated tail": (truncate_the_tail, 19),
}


@pytest.mark.parametrize("kind", TAMPERING)
def test_each_kind_of_tampering_is_found_at_its_first_position(log: Log, kind: str) -> None:
    tamper, events = TAMPERING[kind]
    position, problem = tamper(log)
    assert log.check() == LogCheck(False, events, position, problem)


def test_an_untouched_log_is_ok_and_every_event_is_checked(log: Log) -> None:
    heard: list[tuple[int, int]] = []
    result = check_log(
        log.city.files,
        log.tree,
        expected=log.checkpoint,
        progress=lambda position, head: heard.append((position, head)),
        page_size=10,
    )
    assert result == LogCheck(True, 24, None, None)
    assert heard == [(10, 27), (23, 27), (27, 27)]


def test_new_history_after_the_checkpoint_is_not_tampering(
    log: Log, people: CitizenFactory
) -> None:
    people.register("新来的")
    assert log.check() == LogCheck(True, 26, None, None)
    log.tree.run_once()
    assert log.check() == LogCheck(True, 26, None, None)


def test_a_truncated_tail_is_found_against_the_tree_without_a_checkpoint(log: Log) -> None:
    truncate_the_tail(log)
    problem = "the log ends at position 22 but the tree covers 24 events (truncated)"
    assert check_log(log.city.files, log.tree) == LogCheck(False, 19, 23, problem)


def rewritten_tree(log: Log) -> MerkleTree:
    """What someone who edited the log and rebuilt the tree to match it leaves behind."""
    with log.city.db.transaction() as cur:
        cur.execute(f"DELETE FROM {log.city.db.table(MerkleTree.TILES)}")
        cur.execute(f"UPDATE {log.city.db.table(MerkleTree.HEAD)} SET size = 0, position = 0")
    return built_tree(log.city)


def test_an_edit_hidden_by_a_rewritten_tree_still_fails_the_checkpoint(log: Log) -> None:
    change_a_state_byte(log)
    tree = rewritten_tree(log)
    problem = "the first 24 events no longer hash to the checkpoint's root"
    assert check_log(log.city.files, tree, expected=log.checkpoint) == LogCheck(
        False, 24, None, problem
    )


def test_a_truncation_hidden_by_a_rewritten_tree_still_fails_the_checkpoint(log: Log) -> None:
    truncate_the_tail(log)
    tree = rewritten_tree(log)
    problem = "the log ends at position 22 but the checkpoint covers 24 events (truncated)"
    assert check_log(log.city.files, tree, expected=log.checkpoint) == LogCheck(
        False, 19, None, problem
    )
