"""Waiting for read models: only for those asked, woken by the runner, not by polling."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace

import httpx
import psycopg
import pytest

from mycity.bootstrap import City, build
from mycity.graphql.context import blocking
from mycity.projections.positions import Positions
from tests.conftest import POSTGRES_URL, serving
from tests.helpers import Api, CitizenFactory, join_all, phone, resident_id


def count_refreshes(city: City, monkeypatch: pytest.MonkeyPatch) -> list[Sequence[str]]:
    """Every read of the positions from the store, as the waiters' fallback makes them."""
    calls: list[Sequence[str]] = []
    positions = city.read_models.positions
    original = positions._refresh

    def counted(names: Sequence[str]) -> dict[str, int]:
        calls.append(names)
        return original(names)

    monkeypatch.setattr(positions, "_refresh", counted)
    return calls


def wait_while_the_runner_runs(waiting: City, running: City, position: int) -> list[bool]:
    """`waiting` waits for citizen_profile to reach `position` while `running` folds."""
    answers: list[bool] = []
    waiter = threading.Thread(
        target=lambda: answers.append(
            waiting.read_models.wait(position, "citizen_profile", timeout=20)
        )
    )
    waiter.start()
    running.read_models.live("citizen_profile").run_once()
    assert join_all([waiter], timeout=15)
    return answers


def test_a_wait_waits_only_for_the_read_models_it_names(city: City, people: CitizenFactory) -> None:
    people.register("甲")
    head = city.files.head()
    city.read_models.live("citizen_profile").run_once()  # the directory is left behind
    assert city.read_models.wait(head, "citizen_profile", timeout=0.05) is True
    assert city.read_models.wait(head, "directory", timeout=0.05) is False
    assert city.read_models.wait(head, timeout=0.05) is False  # none named: all of them
    with pytest.raises(KeyError):
        city.read_models.wait(head, "no_such_view", timeout=0.05)


def test_a_waiter_is_woken_by_the_runner_without_polling(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    city.read_models.catch_up()
    city.read_models.wait(city.files.head(), "citizen_profile", timeout=1)  # positions known
    monkeypatch.setattr(city.read_models.positions, "fallback", 30.0)
    refreshes = count_refreshes(city, monkeypatch)
    people.register("乙")
    head = city.files.head()
    assert wait_while_the_runner_runs(city, city, head) == [True]
    assert refreshes == []  # the runner's word was enough: no query made by the waiter


def test_the_async_wait_holds_no_thread(city: City, people: CitizenFactory) -> None:
    people.register("丙")
    head = city.files.head()

    async def wait_while_the_runner_runs() -> tuple[bool, bool]:
        late = await city.read_models.reached(head, "directory", blocking=blocking, timeout=0.05)
        waiting = asyncio.ensure_future(
            city.read_models.reached(head, "directory", blocking=blocking, timeout=20)
        )
        await asyncio.sleep(0)
        await asyncio.to_thread(city.read_models.live("directory").run_once)
        return late, await asyncio.wait_for(waiting, 10)

    assert asyncio.run(wait_while_the_runner_runs()) == (False, True)


def test_a_lost_word_is_made_up_for_by_reading_the_store(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    city.read_models.catch_up()
    city.read_models.wait(city.files.head(), "directory", timeout=1)
    people.register("丁")
    head = city.files.head()
    monkeypatch.setattr(city.read_models.announcer, "advanced", lambda *a: None)  # lost
    city.read_models.live("directory").run_once()
    assert city.read_models.wait(head, "directory", timeout=5) is True


def test_another_process_hears_how_far_the_runner_got(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a server without a runner learns each page from NOTIFY."""
    if not city.settings.is_postgres:
        pytest.skip("NOTIFY is PostgreSQL's; SQLite servers each run their own runner")
    server = build(city.settings)  # another process: its own pools, positions, listener
    try:
        server.listen()
        server.read_models.wait(city.files.head(), "citizen_profile", timeout=1)
        monkeypatch.setattr(server.read_models.positions, "fallback", 30.0)
        refreshes = count_refreshes(server, monkeypatch)
        people.register("戊")
        head = city.files.head()
        assert wait_while_the_runner_runs(server, city, head) == [True]  # runner in "city"
        assert refreshes == []
    finally:
        server.close()


def test_a_city_in_another_schema_hears_none_of_our_positions(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NOTIFY channel is the whole database's: two cities in two schemas of one database
    must not take each other's read models' progress for their own."""
    if not city.settings.is_postgres:
        pytest.skip("NOTIFY is PostgreSQL's")
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    other = build(replace(city.settings, database_url=f"{POSTGRES_URL}?schema={schema}"))
    try:
        other.listen()
        monkeypatch.setattr(other.read_models.positions, "fallback", 30.0)  # only NOTIFY
        people.register("邻")
        city.read_models.catch_up()  # announces our citizen_profile's position
        head = city.files.head()
        assert not other.read_models.wait(head, "citizen_profile", timeout=1.0)
    finally:
        other.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_a_command_answer_costs_few_queries_while_it_waits(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old wait asked every read model's position twice every 5 ms. The fallback read
    is stretched to a second here, so that a slow machine's runner (CI's) is no reason to
    poll: a waiter the runner failed to wake would read once per wait, ten in all."""
    person = people.register("己")
    city.read_models.catch_up()
    city.read_models.wait(city.files.head(), timeout=1)
    monkeypatch.setattr(city.read_models.positions, "fallback", 1.0)
    refreshes = count_refreshes(city, monkeypatch)
    stop = threading.Event()
    runner = threading.Thread(target=city.runner().run_forever, args=(stop,))
    runner.start()
    try:
        for i in range(10):
            position = city.citizens.change_contact(person.principal, None, None, f"{i}号")
            assert city.read_models.wait(position, "citizen_profile", timeout=10)
    finally:
        stop.set()
        city.read_models.wake.set()
        assert join_all([runner])
    assert len(refreshes) <= 2  # woken by the runner, not by the fallback


def test_without_a_runner_a_wait_gives_up_soon(city: City, people: CitizenFactory) -> None:
    people.register("停")
    city.read_models.catch_up()
    city.read_models.wait(city.files.head(), timeout=1)  # known, and then no runner runs
    people.register("候")
    started = time.monotonic()
    assert city.read_models.wait(city.files.head(), "citizen_profile", timeout=60) is False
    assert time.monotonic() - started < 30  # it did not wait its time-out out


def test_without_a_runner_an_answer_says_the_views_lag(city: City) -> None:
    with serving(city.settings) as served:  # the city's settings: no inline runner
        url = served.url
        api = Api(url, city.settings.sms_outbox)
        token = api.register_citizen(resident_id(951), "滞", phone(951))
        response = httpx.post(
            f"{url}/graphql",
            json={
                "query": 'mutation { changeContact(input: {address: "慢路"}) '
                "{ citizen { address } userErrors { code } } }"
            },
            headers={"authorization": f"Bearer {token}"},
            timeout=60,
        ).json()
    assert response["data"]["changeContact"]["userErrors"] == []
    assert response["extensions"] == {"readModelsLag": ["citizen_profile"]}


def _store_positions(store: dict[str, int]) -> Positions:
    """Positions whose store says `store`, read back quickly, stalled after 0.3 s."""
    return Positions(lambda names: {n: store[n] for n in names}, fallback=0.02, stall_seconds=0.3)


def test_a_read_model_idle_before_a_write_is_waited_for_not_called_stalled() -> None:
    store = {"scan_log": 10}
    positions = _store_positions(store)
    positions.advanced("scan_log", 10)
    positions._heard_at -= 60  # no runner has had anything to say for a minute
    threading.Timer(0.1, lambda: store.update(scan_log=11)).start()  # the runner's page
    assert positions.wait(11, ["scan_log"], timeout=5)
    positions._heard_at -= 60
    threading.Timer(0.1, lambda: store.update(scan_log=12)).start()
    assert asyncio.run(positions.reached(12, ["scan_log"], 5, blocking=blocking))


def test_a_busy_runner_is_waited_for_however_long_its_pass() -> None:
    store = {"scan_log": 10}
    positions = _store_positions(store)  # stalled after 0.3 s of silence
    positions.advanced("scan_log", 10)
    stop = threading.Event()

    def busy() -> None:  # folding the other read models first, saying so as it goes
        for i in range(16):
            if stop.wait(0.05):
                return
            positions.advanced("wallet", i)
        store["scan_log"] = 11

    runner = threading.Thread(target=busy)
    runner.start()
    try:
        assert positions.wait(11, ["scan_log"], timeout=5)  # 0.8 s: longer than the stall time
    finally:
        stop.set()
        runner.join()


def test_a_read_model_no_runner_speaks_for_is_given_up_on_before_the_timeout() -> None:
    positions = _store_positions({"scan_log": 10})
    started = time.monotonic()
    assert not positions.wait(11, ["scan_log"], timeout=5)
    assert 0.3 <= time.monotonic() - started < 2
