"""Read models: rebuilt equals live, crashes resume exactly once, runners don't double-count."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from mycity.bootstrap import City
from mycity.domain.citizen import Citizen
from mycity.projections.catchup import Catchup
from mycity.projections.directory import Directory
from mycity.projections.read_models import PROJECTIONS, ReadModels, RebuildRunning
from mycity.store.sql import Database
from tests.counting import EventCount
from tests.helpers import OFFICER, WHY, CitizenFactory, join_all, killed_after
from tests.services import licensed, paid_and_rode, scanned


def _all_rows(city: City, name: str) -> list[dict[str, Any]]:
    """Every row as readers see it (personal columns opened: sealed, they differ each time)."""
    rows = city.read_models.rows(name)
    return rows.select(f"ORDER BY {rows.spec.key}", [])


def _stored_rows(city: City, name: str) -> list[dict[str, Any]]:
    """Every row as stored."""
    with city.db.transaction(commit=False) as cur:
        return [dict(r) for r in cur.execute(f"SELECT * FROM {city.db.table(name)}").fetchall()]


def _history(city: City, people: CitizenFactory, n: int = 6) -> list[Any]:
    """Citizens with real-name checks, contact changes and enterprises with agents."""
    persons = [people.register(f"市民{i}", verified=i % 2 == 0) for i in range(n)]
    for i, person in enumerate(persons[:3]):
        city.citizens.change_contact(person.principal, None, None, f"人民路{i}号")
    city.citizens.verify_in_person(OFFICER, persons[1].id)
    enterprise = people.enterprise(persons[0])
    people.agent(enterprise, persons[0], persons[2], ["PROFILE"])
    people.agent(enterprise, persons[0], persons[3], ["PAYMENTS"])
    city.enterprises.revoke_agent(persons[0].principal, enterprise, persons[3].id)
    city.enterprises.authorise_agent(  # an invitation left waiting
        persons[0].principal, enterprise, persons[5].id_number, ["LICENCES"]
    )
    city.reads.citizens.profile(OFFICER, persons[4].id, WHY)  # a read, recorded
    licensed(city, persons[0])  # an application, a licence, its use and a rating
    scanned(city, persons[1])  # a scan of a city code
    paid_and_rode(city, persons[2])  # a payment, a refund, a ride on credit
    return persons


def _counts(city: City, models: ReadModels) -> dict[str, int]:
    with city.db.transaction(commit=False) as cur:
        rows = cur.execute(f"SELECT id, events FROM {city.db.table('event_count')}").fetchall()
    return {r["id"]: r["events"] for r in rows}


def _expected_counts(city: City, persons: list[Any]) -> dict[str, int]:
    return {str(p.id): city.files.repository.get(p.id).version for p in persons}


def test_rebuild_equals_live_view(city: City, people: CitizenFactory) -> None:
    _history(city, people)
    city.read_models.catch_up()
    live = {p.name: _all_rows(city, p.name) for p in PROJECTIONS}
    assert all(live.values())
    for projection in PROJECTIONS:
        report = city.read_models.rebuild(projection.name)
        assert report["generation"] == 2
        assert _all_rows(city, projection.name) == live[projection.name]
    statuses = {s["name"]: s for s in city.read_models.status()}
    assert all(s["lag"] == 0 and s["generation"] == 2 for s in statuses.values())


def test_live_view_follows_new_events_after_a_rebuild(city: City, people: CitizenFactory) -> None:
    first = people.register("甲")
    city.read_models.catch_up()
    city.read_models.rebuild("citizen_profile")
    second = people.register("乙")
    city.read_models.catch_up()
    rows = city.read_models.rows("citizen_profile").get_many([str(first.id), str(second.id)])
    assert {r["name"] for r in rows.values()} == {"甲", "乙"}


def test_a_crash_midway_resumes_with_nothing_lost_or_counted_twice(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    persons = _history(city, people, n=12)
    models = ReadModels(city.files, city.db, projections=(EventCount,), page_size=4)
    models.setup()
    catchup = models.live("event_count")
    writes = 0
    original = catchup.store.advance  # the page's rows are written: its position next

    def crash_on_third_page(*args: Any, **kwargs: Any) -> None:
        nonlocal writes
        writes += 1
        original(*args, **kwargs)
        if writes == 3:
            raise RuntimeError("power cut after writing, before commit")

    monkeypatch.setattr(catchup.store, "advance", crash_on_third_page)
    with pytest.raises(RuntimeError):
        catchup.run_once()
    after_crash = catchup.position()
    assert 0 < after_crash < city.files.recorder.max_notification_id()

    monkeypatch.undo()
    resumed = ReadModels(city.files, city.db, projections=(EventCount,), page_size=4)
    resumed.catch_up()
    assert _counts(city, resumed) == _expected_counts(city, persons)


def test_two_runners_at_once_count_each_event_once(city: City, people: CitizenFactory) -> None:
    persons = _history(city, people, n=10)
    models = ReadModels(city.files, city.db, projections=(EventCount,), page_size=3)
    models.setup()
    store = models.live("event_count").store

    def run() -> None:
        catchup = Catchup(city.files, EventCount(view=store), page_size=3)
        head = city.files.recorder.max_notification_id()
        for _ in range(100):  # a runner that loses a page to the other stops and goes again
            catchup.run_once()
            if catchup.position() == head:
                return

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    assert join_all(threads)
    assert _counts(city, models) == _expected_counts(city, persons)


def test_pages_are_written_in_batches(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(25):
        people.register(f"批{i}")
    models = ReadModels(city.files, city.db, projections=(EventCount,), page_size=10)
    models.setup()
    catchup = models.live("event_count")
    calls = []
    original = catchup.store.write_rows
    catchup.store.write_rows = lambda *a, **k: (calls.append(len(a[1])), original(*a, **k))[1]  # type: ignore[method-assign]
    commits = []
    transaction = city.db.transaction

    @contextmanager
    def counted(*, commit: bool = True) -> Iterator[Any]:
        with transaction(commit=commit) as cur:
            yield cur
        commits.append(commit)

    monkeypatch.setattr(city.db, "transaction", counted)
    folded = catchup.run_once()
    assert folded == 25  # only the Citizen.Registered events match its topics
    assert len(calls) == 3 and sum(calls) == 25  # three commits, not twenty-five
    assert commits.count(True) == 3  # and the reads around them commit nothing


def test_position_reaches_the_head_past_events_a_model_ignores(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("丙", verified=True)
    city.enterprises.register(person.principal, "91350100M000100Y43", "丙公司")
    models = ReadModels(city.files, city.db, projections=(EventCount,))
    models.setup()
    models.catch_up()
    [status] = models.status()
    assert status["lag"] == 0 and status["position"] == status["head"]


def test_status_shows_lag_and_wait_gives_up_without_a_runner(
    city: City, people: CitizenFactory
) -> None:
    people.register("丁")
    lagging = {s["name"]: s["lag"] for s in city.read_models.status()}
    assert all(lag > 0 for lag in lagging.values())
    head = city.files.recorder.max_notification_id()
    assert city.read_models.wait(head, timeout=0.05) is False
    city.read_models.catch_up()
    assert city.read_models.wait(head, timeout=0.05) is True


def test_changed_rules_rebuild_when_a_runner_starts(city: City, people: CitizenFactory) -> None:
    person = people.register("戊")
    city.read_models.catch_up()

    class DirectoryNext(Directory):
        name = "directory"
        version = Directory.version + 1
        apply = Directory.__dict__["apply"]

    models = ReadModels(
        city.files, city.db, projections=(PROJECTIONS[0], PROJECTIONS[1], DirectoryNext)
    )
    models.setup()
    status = {s["name"]: s for s in models.status()}
    assert status["directory"]["version"] == Directory.version  # readers keep the old rules
    assert status["directory"]["code_version"] == DirectoryNext.version
    assert models.upgrade() == ["directory"]
    status = {s["name"]: s for s in models.status()}
    assert status["directory"]["generation"] == 2
    assert status["directory"]["version"] == DirectoryNext.version
    assert models.upgrade() == []
    assert city.read_models.upgrade() == []  # older rules never rebuild over newer ones
    assert models.rows("directory").get_many([str(person.id)])[str(person.id)]["name"] == "戊"


def test_a_killed_runner_process_resumes_exactly_once(
    city: City, people: CitizenFactory, env: dict[str, str]
) -> None:
    """SIGKILL a real `projections run`-style process mid-catch-up, then resume."""
    persons = [people.register(f"乙{i}") for i in range(60)]
    for p in persons:
        city.citizens.change_contact(p.principal, None, None, "新址")
    script = (
        "import time\n"
        "from mycity.bootstrap import build\n"
        "from mycity.projections.read_models import ReadModels\n"
        "from tests.counting import EventCount\n"
        "from mycity.settings import Settings\n"
        "import mycity.projections.store as m\n"
        "city = build(Settings.from_env())\n"
        "models = ReadModels(city.files, city.db, projections=(EventCount,), page_size=5)\n"
        "models.setup()\n"
        "original = m.ReadModelStore.advance\n"
        "def slow(self, *a, **k):\n"
        "    original(self, *a, **k); print('page', flush=True); time.sleep(0.05)\n"
        "m.ReadModelStore.advance = slow\n"
        "models.catch_up()\n"
    )
    killed_after(script, env, pages=5)
    models = ReadModels(city.files, city.db, projections=(EventCount,), page_size=5)
    position = models.live("event_count").position()
    assert 0 < position < city.files.recorder.max_notification_id()
    models.catch_up()
    assert _counts(city, models) == _expected_counts(city, persons)
    assert all(v == 2 for v in _counts(city, models).values())


def test_projection_rows_hold_no_full_identifiers(city: City, people: CitizenFactory) -> None:
    person = people.register("己", verified=True)
    enterprise = people.enterprise(person)
    city.enterprises.authorise_agent(
        person.principal, enterprise, people.register("庚").id_number, ["PROFILE"]
    )
    licensed(city, person)
    scanned(city, person)
    paid_and_rode(city, person)
    city.reads.citizens.profile(OFFICER, person.id, WHY)
    city.read_models.catch_up()
    for projection in PROJECTIONS:
        rows = _stored_rows(city, projection.name)
        assert rows, projection.name
        text = repr(rows)
        assert person.id_number not in text and person.phone not in text
        assert person.name not in text  # sealed under the person's key wherever it is kept


def test_events_are_unreadable_at_rest(city: City, people: CitizenFactory) -> None:
    person = people.register("庚")
    table = "stored_events" if city.db.dialect == "sqlite" else city.db.table("cityfiles_events")
    with city.db.transaction(commit=False) as cur:
        states = [bytes(r["state"]) for r in cur.execute(f"SELECT state FROM {table}").fetchall()]
    assert states
    for state in states:
        assert person.id_number.encode() not in state
        assert person.name.encode() not in state
        assert person.phone.encode() not in state
    assert isinstance(city.files.repository.get(person.id), Citizen)


def test_a_rebuild_already_running_elsewhere_is_refused(city: City, people: CitizenFactory) -> None:
    people.register("重")
    with city.db.exclusive("rebuild-directory") as held:  # another process rebuilding
        assert held
        with pytest.raises(RebuildRunning):
            city.read_models.rebuild("directory")
        other = ReadModels(city.files, city.db)
        with other.db.exclusive("rebuild-directory") as again:
            assert not again
    assert city.read_models.rebuild("directory")["generation"] == 2  # free again


def test_a_rebuild_in_another_schema_of_the_database_is_not_refused(city: City) -> None:
    """PostgreSQL's advisory locks are the database's: two cities in two schemas of one
    database rebuild the same read model at once."""
    if city.db.dialect != "postgres":
        pytest.skip("SQLite: a store is a file of its own, and its lock files lie beside it")
    neighbour = Database(city.db.datastore, "postgres", schema=f"{city.db.schema}_neighbour")
    with city.db.exclusive("rebuild-directory") as held:
        with neighbour.exclusive("rebuild-directory") as theirs:
            assert held and theirs
        with city.db.exclusive("rebuild-directory") as again:
            assert not again


def test_a_runner_of_older_rules_leaves_a_newer_generation_alone(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("旧")

    class DirectoryNext(Directory):
        name = "directory"
        version = Directory.version + 1
        apply = Directory.__dict__["apply"]

    newer = ReadModels(
        city.files, city.db, projections=(PROJECTIONS[0], PROJECTIONS[1], DirectoryNext)
    )
    newer.setup()
    newer.upgrade()  # the new code's runner built generation 2 with the newer rules
    people.register("新")
    assert city.read_models.catch_up() > 0  # the old code's runner folds the others...
    assert city.read_models.rows("directory").get_many([str(person.id)])  # (built by v2)
    status = {s["name"]: s for s in city.read_models.status()}
    assert status["directory"]["lag"] > 0  # ...but not into the v2 generation
    assert newer.catch_up() > 0


def test_one_failing_read_model_does_not_hold_back_the_others(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = people.register("坏")

    def broken(*args: Any) -> None:
        raise RuntimeError("a bug in this read model's rules")

    monkeypatch.setattr(type(city.read_models.live("directory").projection), "fold_rows", broken)
    assert city.runner().run_once() is False  # it reports the failure...
    rows = city.read_models.rows("citizen_profile").get_many([str(person.id)])
    assert rows  # ...and the other read models caught up all the same
    lag = {s["name"]: s["lag"] for s in city.read_models.status()}
    assert lag["citizen_profile"] == lag["enterprise_profile"] == 0 and lag["directory"] > 0
