"""One pass over the log for every follower: a page read once, folded by every read model in
one transaction, a failing read model left out and retried alone, nothing lost or counted
twice after a kill -9, idle followers costing no statement, wake-ups coalesced."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from benchmarks.followers import idle

from mycity.bootstrap import City
from mycity.projections.fanout import LogPass
from mycity.projections.read_models import PROJECTIONS, ReadModels
from mycity.projections.runner import Runner
from mycity.store.sql import Cursor
from tests.counting import EventCount
from tests.helpers import CitizenFactory, join_all, killed_after


def counts(city: City, models: ReadModels) -> dict[str, int]:
    rows = models.rows("event_count")
    return {r["id"]: r["events"] for r in rows.select("", [])}


@contextmanager
def counted_transactions(city: City) -> Iterator[list[bool]]:
    commits: list[bool] = []
    transaction = city.db.transaction

    @contextmanager
    def counting(*, commit: bool = True) -> Iterator[Cursor]:
        with transaction(commit=commit) as cur:
            yield cur
        commits.append(commit)

    city.db.transaction = counting  # type: ignore[method-assign]
    try:
        yield commits
    finally:
        city.db.transaction = transaction  # type: ignore[method-assign]


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    seen: list[str] = []
    execute, executemany = Cursor.execute, Cursor.executemany

    def counting_execute(self: Cursor, sql: str, params: Any = ()) -> Cursor:
        seen.append(sql)
        return execute(self, sql, params)

    def counting_many(self: Cursor, sql: str, rows: Any) -> None:
        seen.append(sql)
        executemany(self, sql, rows)

    Cursor.execute = counting_execute  # type: ignore[method-assign]
    Cursor.executemany = counting_many  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Cursor.execute, Cursor.executemany = execute, executemany  # type: ignore[method-assign]


def a_pass(city: City, models: ReadModels, page_size: int = 1000) -> LogPass:
    return LogPass(city.files, models, [city.tree], city.processes, page_size=page_size)


def test_a_page_is_folded_by_every_read_model_in_one_transaction(
    city: City, people: CitizenFactory
) -> None:
    a_pass(city, city.read_models).run_once()  # every follower at the head
    person = people.register("一页")
    with counted_transactions(city) as commits:
        assert a_pass(city, city.read_models).run_once() is True
    assert commits.count(True) == 1  # the read models' and the tree's page: no process wants it
    assert city.read_models.rows("citizen_profile").get_many([str(person.id)])
    lags = {s["name"]: s["lag"] for s in city.read_models.status()}
    assert set(lags.values()) == {0} and city.tree.position() == city.files.head()


def test_an_idle_read_model_costs_no_statement(city: City, people: CitizenFactory) -> None:
    statements = []
    for extra in (1, 30):
        models = ReadModels(
            city.files, city.db, projections=(*PROJECTIONS, *(idle(n) for n in range(extra)))
        )
        models.setup()
        for warm in range(2):  # at the head, with the tree's right edge in memory
            people.register(f"暖{extra}{warm}")
            a_pass(city, models).run_once()
        people.register(f"闲{extra}")
        with counted_statements() as seen:
            assert a_pass(city, models).run_once() is True
        statements.append(len(seen))
    assert statements[0] == statements[1], statements  # 30 idle read models: not one more


def test_a_failing_read_model_is_left_out_of_the_page_and_retried_alone(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = ReadModels(city.files, city.db, projections=(EventCount, *PROJECTIONS[:2]))
    models.setup()
    persons = [people.register(f"页{i}") for i in range(6)]  # 2 events each: 4 pages of 3
    directory_like = type(models.live("enterprise_profile").projection)
    folded = 0
    fold_rows = directory_like.fold_rows

    def fails_on_its_second_page(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal folded
        folded += 1
        if folded == 2:
            raise RuntimeError("a bug met on the second page")
        fold_rows(self, *args, **kwargs)

    monkeypatch.setattr(directory_like, "fold_rows", fails_on_its_second_page)
    assert a_pass(city, models, page_size=3).run_once() is False
    positions = {s["name"]: s["position"] for s in models.status()}
    head = city.files.head()
    assert positions["event_count"] == positions["citizen_profile"] == head  # went on
    first_page = city.files.recorder.select_notifications(start=0, limit=3)[-1].id
    assert positions["enterprise_profile"] == first_page  # kept its first page, no more
    monkeypatch.undo()
    assert a_pass(city, models, page_size=3).run_once() is True  # alone, then in step
    assert {s["name"]: s["lag"] for s in models.status()} == dict.fromkeys(positions, 0)
    assert counts(city, models) == {str(p.id): 1 for p in persons}  # nothing twice


def test_a_runner_killed_mid_pass_resumes_with_nothing_lost_or_counted_twice(
    city: City, people: CitizenFactory, env: dict[str, str]
) -> None:
    persons = [people.register(f"断{i}") for i in range(12)]
    script = (
        "import time\n"
        "from mycity.bootstrap import build\n"
        "from mycity.projections.fanout import LogPass\n"
        "from mycity.projections.read_models import PROJECTIONS, ReadModels\n"
        "from tests.counting import EventCount\n"
        "from mycity.settings import Settings\n"
        "import mycity.projections.catchup as c\n"
        "city = build(Settings.from_env())\n"
        "models = ReadModels(city.files, city.db, projections=(EventCount, *PROJECTIONS))\n"
        "models.setup()\n"
        "original = c.Announcer.in_page\n"
        "def slow(self, *a, **k):\n"
        "    original(self, *a, **k); print('page', flush=True); time.sleep(0.05)\n"
        "c.Announcer.in_page = slow\n"
        "LogPass(city.files, models, [city.tree], city.processes, page_size=4).run_once()\n"
    )
    killed_after(script, env, pages=3)  # mid-pass, between pages or inside one
    models = ReadModels(city.files, city.db, projections=(EventCount, *PROJECTIONS))
    assert 0 < min(s["position"] for s in models.status()) < city.files.head()
    assert a_pass(city, models, page_size=4).run_once() is True
    assert counts(city, models) == {str(p.id): 1 for p in persons}
    assert city.tree.size() == len(city.files.recorder.select_notifications(start=0, limit=10_000))


def test_commits_during_a_pass_wake_one_more_pass_not_one_each(
    city: City, people: CitizenFactory
) -> None:
    passes: list[int] = []
    first_pass_started, release = threading.Event(), threading.Event()

    def slow_pass() -> int:
        passes.append(city.files.head())
        if len(passes) == 1:
            first_pass_started.set()
            release.wait(10)
        return 0

    wake = threading.Event()
    city.files.on_saved.append(wake.set)
    runner = Runner(wake, [("pass", slow_pass)], poll_seconds=3600)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(stop,))
    thread.start()
    try:
        assert first_pass_started.wait(10)
        for i in range(5):  # five commits while the first pass runs
            people.register(f"醒{i}")
        release.set()
        for _ in range(200):
            if len(passes) >= 2:
                break
            threading.Event().wait(0.01)
        threading.Event().wait(0.2)  # time for any further pass to start
    finally:
        stop.set()
        wake.set()
        assert join_all([thread])
    assert len(passes) == 2, passes  # one more pass, not five
    assert passes[1] == city.files.head()  # which saw all five
