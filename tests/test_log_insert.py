"""Saves to the log, a command's and a process's page: on PostgreSQL one call of a function
of the log's own (the page's claim and position, the table lock, the wake-up and the insert
in one statement), with what eventsourcing's statements gave: ids in the order of the
events, a wake-up for every follower, nothing of a refused batch or page kept, and a store
opened at once by many processes."""

from __future__ import annotations

import threading
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking

from mycity.bootstrap import City
from mycity.bootstrap_log import open_log
from mycity.identity.keys import KeyStore
from mycity.settings import Settings
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


def test_an_empty_commit_saves_nothing(city: City) -> None:
    head = city.files.head()
    assert list(city.files.recorder.insert_events([]) or []) == []
    assert city.files.head() == head


def test_a_process_page_moves_its_position_with_its_events_or_keeps_nothing(
    city: City,
) -> None:
    """A process's page is saved with its position in one statement: a position not
    ahead of the one recorded, or a page whose start another runner moved, is refused,
    and nothing of the page is kept."""
    recorder = city.files.recorder
    recorder.insert_events(events(1), tracking=Tracking("greeter", 5))
    assert recorder.max_tracking_id("greeter") == 5
    head = city.files.head()
    for refused in (
        {"tracking": Tracking("greeter", 5)},  # not ahead
        {"tracking": Tracking("greeter", 9), "tracked_from": 4},  # its start moved
    ):
        with pytest.raises(IntegrityError):
            recorder.insert_events(events(2), **refused)
        assert city.files.head() == head
        assert recorder.max_tracking_id("greeter") == 5
    recorder.insert_events([], tracking=Tracking("greeter", 7), tracked_from=5)
    assert recorder.max_tracking_id("greeter") == 7
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


def test_many_processes_opening_a_store_at_once_all_open(settings: Settings) -> None:
    """A server's workers open the store the city made, all at once: none may replace a
    function of the log's as it opens (two at once, PostgreSQL refuses one: "tuple
    concurrently updated"), and the log's insert function stays one."""
    if not settings.is_postgres:
        pytest.skip("SQLite: no function of the log's")
    keys = KeyStore(settings.keys_dir, generate_missing=False).load()
    open_log(settings, keys)[1].close()  # the city made it
    start = threading.Barrier(4)
    failures: list[BaseException] = []
    opened: list[Any] = []

    def open_one() -> None:
        start.wait()
        try:
            opened.append(open_log(settings, keys))
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert failures == []
        _, files, db = opened[0]
        with db.read() as cur:
            made = cur.execute(
                "SELECT count(*) AS n FROM pg_proc p JOIN pg_namespace s "
                "ON s.oid = p.pronamespace WHERE s.nspname = ? AND p.proname = ?",
                (db.schema, files.recorder.insert_function),
            ).fetchone()
        assert made["n"] == 1
        assert files.recorder.insert_events(events(2)) is not None
    finally:
        for _, files, _ in opened:
            files.close()
