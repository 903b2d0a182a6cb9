"""Tracked processes: every event answered once, after crashes, races and two runners."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from eventsourcing.application import ProcessingEvent

from mycity.bootstrap import City
from mycity.processes.tracked import ProcessRunner
from tests.greetings import Greeter, Greeting, greeting_id
from tests.helpers import CitizenFactory, Person, join_all


def _history(city: City, people: CitizenFactory, n: int) -> list[Person]:
    persons = [people.register(f"问{i}") for i in range(n)]
    for i, person in enumerate(persons):
        for j in range(i % 3):
            city.citizens.change_contact(person.principal, None, None, f"{i}-{j}号")
    return persons


def _greetings(city: City, persons: list[Person]) -> dict[str, int]:
    found = {}
    for person in persons:
        greeting = city.files.find(greeting_id(person.id))
        if isinstance(greeting, Greeting):
            found[person.name] = greeting.changes
    return found


def _expected(persons: list[Person]) -> dict[str, int]:
    return {p.name: i % 3 for i, p in enumerate(persons)}


def _runner(city: City, page_size: int = 4) -> ProcessRunner:
    runner = ProcessRunner(city.files, Greeter(), page_size=page_size)
    runner.setup()
    return runner


def test_each_event_is_answered_once(city: City, people: CitizenFactory) -> None:
    persons = _history(city, people, 9)
    runner = _runner(city)
    head = city.files.head()
    assert runner.run_once() == 9 + 9  # nine registrations, nine contact changes
    assert _greetings(city, persons) == _expected(persons)
    assert runner.position() == head
    assert runner.run_once() == 0  # its own events are not its topics
    assert runner.position() == head  # nothing for it since: no write
    assert _runner(city, page_size=4).run_once() == 0  # a restart reads the stretch again
    idle = ProcessRunner(city.files, Greeter(), page_size=4, idle_stretch=1)
    assert idle.run_once() == 0
    assert idle.position() == city.files.head()  # a long stretch is recorded


def test_a_crash_midway_resumes_with_nothing_lost_or_answered_twice(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    persons = _history(city, people, 12)
    runner = _runner(city)
    record = city.files.record
    saved = 0

    def crash_on_the_third_page(processing: ProcessingEvent[Any]) -> None:
        nonlocal saved
        saved += 1
        if saved == 3:
            raise RuntimeError("power cut before the commit")
        record(processing)

    monkeypatch.setattr(city.files, "record", crash_on_the_third_page)
    with pytest.raises(RuntimeError):
        runner.run_once()
    assert 0 < runner.position() < city.files.head()
    monkeypatch.undo()
    _runner(city).run_once()
    assert _greetings(city, persons) == _expected(persons)


def test_two_runners_at_once_answer_each_event_once(city: City, people: CitizenFactory) -> None:
    persons = _history(city, people, 12)
    head = city.files.head()

    def run(page_size: int) -> None:
        runner = _runner(city, page_size)
        for _ in range(100):  # a runner that loses a page stops, and goes again
            runner.run_once()
            if runner.position() == head:
                return

    threads = [threading.Thread(target=run, args=(size,)) for size in (3, 5)]
    for t in threads:
        t.start()
    assert join_all(threads)
    assert _greetings(city, persons) == _expected(persons)


def test_a_page_whose_start_another_runner_moved_is_refused(
    city: City, people: CitizenFactory
) -> None:
    persons = _history(city, people, 6)
    stale = _runner(city, page_size=100)
    start = stale.position()
    notifications = city.files.recorder.select_notifications(
        start, limit=100, topics=Greeter.topics, inclusive_of_start=False
    )
    events = [(n.id, city.files.mapper.to_domain_event(n)) for n in notifications]
    _runner(city, page_size=2).run_once()  # another runner did it all, in smaller pages
    assert stale._answer(events, city.files.head(), start) is False
    assert _greetings(city, persons) == _expected(persons)


def test_a_page_that_lost_a_race_with_a_command_is_answered_again(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    persons = _history(city, people, 3)
    runner = _runner(city, page_size=100)
    runner.run_once()
    person = persons[0]
    city.citizens.change_contact(person.principal, None, None, "再改")
    policy = runner.process.policy
    raced = False

    def racing(self: Greeter, event: Any, reply: Any) -> None:
        nonlocal raced
        policy(event, reply)
        if not raced:  # meanwhile a command changes the same greeting
            raced = True
            greeting = city.files.get(Greeting, greeting_id(person.id))
            greeting.notice_change()
            city.files.commit(greeting)

    monkeypatch.setattr(Greeter, "policy", racing)
    runner.run_once()
    assert _greetings(city, persons)[person.name] == 0 + 1 + 1  # the page, and the command
