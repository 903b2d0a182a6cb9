"""A command's commit to the log: on PostgreSQL one call of the log's own function (the
table lock, the wake-up and the insert in one statement), with what eventsourcing's six
statements gave: ids in the order of the events, a wake-up for every follower, nothing of
a refused batch kept, and a store opened at once by many processes."""

from __future__ import annotations

import threading
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from mycity.bootstrap import City
from tests.conftest import POSTGRES_URL


def events(count: int, first_version: int = 1) -> list[StoredEvent]:
    stream = uuid4()
    return [
        StoredEvent(stream, first_version + i, "tests.log:Happened", b"{}") for i in range(count)
    ]


def test_a_commit_returns_its_events_positions_in_their_order(city: City) -> None:
    recorder = city.files.recorder
    head = city.files.head()
    ids = recorder.insert_events(events(3))
    assert ids == [head + 1, head + 2, head + 3]
    assert city.files.head() == head + 3


def test_a_refused_commit_keeps_nothing_of_its_batch(city: City) -> None:
    """One event of the batch takes a version already taken: the whole batch is refused,
    as eventsourcing's IntegrityError (a group commit then retries the others alone)."""
    recorder = city.files.recorder
    first = events(1)
    recorder.insert_events(first)
    head = city.files.head()
    clashing = [*events(2), StoredEvent(first[0].originator_id, 1, "tests.log:Again", b"{}")]
    with pytest.raises(IntegrityError):
        recorder.insert_events(clashing)
    assert city.files.head() == head
    assert recorder.select_notifications(head + 1, limit=10) == []


def test_an_empty_commit_asks_nothing(city: City) -> None:
    head = city.files.head()
    assert list(city.files.recorder.insert_events([]) or []) == []
    assert city.files.head() == head


def test_a_commit_wakes_the_followers_listening_on_the_log(city: City) -> None:
    if city.db.dialect != "postgres":
        pytest.skip("SQLite: followers in other processes poll; there is no NOTIFY")
    channel = city.files.recorder.channel_name  # type: ignore[attr-defined]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as listener:
        listener.execute(f'LISTEN "{channel}"')
        city.files.recorder.insert_events(events(1))
        heard = list(listener.notifies(timeout=5, stop_after=1))
    assert [n.channel for n in heard] == [channel]


def test_many_processes_making_the_logs_function_at_once_all_go_on(city: City) -> None:
    """A server's workers open the store the city made, all at once: each leaves the log's
    function as it is (replacing it, two at once, PostgreSQL refuses one: "tuple
    concurrently updated"), and it stays one function."""
    if city.db.dialect != "postgres":
        pytest.skip("SQLite: no function of the log's")
    recorder: Any = city.files.recorder
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def make() -> None:
        with city.db.transaction() as cur:
            start.wait()
            try:
                cur.execute(recorder._create_insert_function().as_string(), [])
            except BaseException as e:
                failures.append(e)

    threads = [threading.Thread(target=make) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == []
    with city.db.read() as cur:
        made = cur.execute(
            "SELECT count(*) AS n FROM pg_proc p JOIN pg_namespace s "
            "ON s.oid = p.pronamespace WHERE s.nspname = ? AND p.proname = ?",
            (city.db.schema, recorder.insert_function),
        ).fetchone()
    assert made["n"] == 1
    assert recorder.insert_events(events(2)) is not None
