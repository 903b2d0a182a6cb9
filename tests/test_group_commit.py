"""Group commit: concurrent commands share a save, and each gets its own outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, OperationalError

from mycity.bootstrap import City
from mycity.store.group_commit import GroupCommit
from tests.helpers import CitizenFactory, join_all


@dataclass(frozen=True)
class Event:
    originator_id: UUID
    originator_version: int


class Store:
    """A fake save: holds the first save until `hold` commands wait behind it, refuses
    versions already taken, and records what each save carried."""

    def __init__(self, hold: int = 0) -> None:
        self.saves: list[list[Event]] = []
        self.taken: set[tuple[UUID, int]] = set()
        self.failure: BaseException | None = None
        self.hold = hold
        self.release = threading.Event()

    def save(self, events: Sequence[Event]) -> list[str]:
        if not self.saves and self.hold:
            assert self.release.wait(10), "the waiting commands never queued"
        self.saves.append(list(events))
        if self.failure is not None:
            raise self.failure
        wanted = {(e.originator_id, e.originator_version) for e in events}
        if wanted & self.taken:
            raise IntegrityError("version taken")
        self.taken |= wanted
        return [f"{e.originator_id}:{e.originator_version}" for e in events]


def commands(committer: GroupCommit, batches: list[list[Event]]) -> list[Any]:
    """Commit each list of events from its own thread; each one's recordings or error."""
    outcomes: list[Any] = [None] * len(batches)

    def run(i: int) -> None:
        try:
            outcomes[i] = committer.commit(batches[i])
        except BaseException as e:
            outcomes[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    return outcomes if join_all(threads) else pytest.fail("a command never returned")


def queued(committer: GroupCommit, store: Store, waiting: int) -> Callable[[], None]:
    """Release the held first save once `waiting` more commands are pending."""

    def watch() -> None:
        for _ in range(10_000):  # 10 s at most
            if len(committer._pending) >= waiting:
                break
            threading.Event().wait(0.001)
        store.release.set()

    return watch


def test_a_lone_command_saves_at_once() -> None:
    store = Store()
    committer = GroupCommit(store.save)
    event = Event(uuid4(), 1)
    assert committer.commit([event]) == [f"{event.originator_id}:1"]
    assert store.saves == [[event]]


def test_commands_waiting_behind_a_save_go_together_in_the_next() -> None:
    store = Store(hold=1)
    committer = GroupCommit(store.save)
    first = [Event(uuid4(), 1)]
    others = [[Event(uuid4(), 1), Event(uuid4(), 1)] for _ in range(5)]
    watcher = threading.Thread(target=queued(committer, store, 5))
    watcher.start()
    outcomes = commands(committer, [first, *others])
    assert join_all([watcher])
    assert all(isinstance(o, list) for o in outcomes), outcomes
    assert [len(s) for s in store.saves] == [1, 10]  # two saves for six commands
    for batch, outcome in zip([first, *others], outcomes, strict=True):
        assert outcome == [f"{e.originator_id}:{e.originator_version}" for e in batch]
    assert (committer.batches, committer.commands) == (2, 6)


def test_a_conflicting_command_fails_alone() -> None:
    store = Store(hold=1)
    committer = GroupCommit(store.save)
    taken = Event(uuid4(), 1)
    store.taken.add((taken.originator_id, 1))
    good = [[Event(uuid4(), 1)] for _ in range(3)]
    watcher = threading.Thread(target=queued(committer, store, 4))
    watcher.start()
    outcomes = commands(committer, [[Event(uuid4(), 1)], *good[:2], [taken], good[2]])
    assert join_all([watcher])
    assert isinstance(outcomes[3], IntegrityError)
    assert all(isinstance(o, list) for i, o in enumerate(outcomes) if i != 3), outcomes


def test_two_commands_wanting_one_version_in_a_batch_the_later_loses() -> None:
    store = Store(hold=1)
    committer = GroupCommit(store.save)
    file_id = uuid4()
    watcher = threading.Thread(target=queued(committer, store, 2))
    watcher.start()
    outcomes = commands(committer, [[Event(uuid4(), 1)], [Event(file_id, 2)], [Event(file_id, 2)]])
    assert join_all([watcher])
    winners = [o for o in outcomes[1:] if isinstance(o, list)]
    losers = [o for o in outcomes[1:] if isinstance(o, IntegrityError)]
    assert len(winners) == 1 and len(losers) == 1
    assert [len(s) for s in store.saves] == [1, 1]  # the clash never reached the store


def test_a_failing_store_fails_every_command_of_the_batch() -> None:
    store = Store()
    store.failure = OperationalError("connection lost")
    committer = GroupCommit(store.save)
    outcomes = commands(committer, [[Event(uuid4(), 1)] for _ in range(4)])
    assert all(isinstance(o, OperationalError) for o in outcomes)
    store.failure = None
    assert committer.commit([Event(uuid4(), 1)])  # and the next command goes through


def test_many_writers_on_the_real_store_all_land_in_fewer_saves(
    city: City, people: CitizenFactory
) -> None:
    persons = [people.register(f"并{i}") for i in range(24)]
    committer = city.files.group_commit
    before = (committer.batches, committer.commands)
    save = committer._save
    held = threading.Event()

    def first_save_waits_for_company(events: Sequence[Any]) -> Sequence[Any]:
        if not held.is_set():
            held.set()
            for _ in range(5000):  # until others queue behind it (5 s at most)
                if len(committer._pending) >= 5:
                    break
                threading.Event().wait(0.001)
        return save(events)

    committer._save = first_save_waits_for_company  # type: ignore[method-assign]
    barrier = threading.Barrier(len(persons), timeout=10)

    def change(i: int) -> None:
        barrier.wait()
        city.citizens.change_contact(persons[i].principal, None, None, f"同路{i}号")

    threads = [threading.Thread(target=change, args=(i,)) for i in range(len(persons))]
    for t in threads:
        t.start()
    assert join_all(threads)
    for i, person in enumerate(persons):
        citizen = city.files.repository.get(person.id)
        assert citizen.address == f"同路{i}号" and citizen.version == 2
    batches = committer.batches - before[0]
    assert committer.commands - before[1] == len(persons)
    assert batches < len(persons)  # some commands shared a save
