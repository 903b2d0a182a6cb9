"""Operations as an operator meets them: rebuilds, upgrades, waking the runner, retiring keys."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mycity.bootstrap import City, build
from mycity.cli import cli
from mycity.projections.read_models import PROJECTIONS, ReadModels
from mycity.projections.runner import Runner
from tests.helpers import CitizenFactory, join_all


def tables(city: City) -> set[str]:
    with city.db.read() as cur:
        if city.db.dialect == "sqlite":
            rows = cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
            return {r["name"] for r in rows}
        rows = cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
            (city.db.schema,),
        ).fetchall()
        return {r["table_name"] for r in rows}


def test_readers_see_the_old_generation_until_the_new_one_is_built(
    city: City, people: CitizenFactory
) -> None:
    persons = [people.register(f"旧{i}") for i in range(30)]
    city.read_models.catch_up()
    rows = city.read_models.rows("directory")
    everyone = [str(p.id) for p in persons]
    seen_during: list[int] = []

    def midway(done: int, head: int) -> None:  # each page of the rebuild
        seen_during.append(len(rows.get_many(everyone)))

    rebuilt = ReadModels(city.files, city.db, page_size=7, rebuild_page_size=7)
    report = rebuilt.rebuild("directory", progress=midway)
    assert len(seen_during) > 2 and set(seen_during) == {30}  # never a half-built view
    assert report["generation"] == 2 and len(rows.get_many(everyone)) == 30
    assert "directory_g2" in tables(city) and "directory_g1" not in tables(city)  # dropped


def test_a_runner_upgrades_changed_rules_when_it_starts(city: City, people: CitizenFactory) -> None:
    people.register("升")
    city.read_models.catch_up()

    newer = PROJECTIONS[2].version + 1

    class DirectoryNewer(PROJECTIONS[2]):  # type: ignore[misc,valid-type]
        name = "directory"
        version = newer
        apply = PROJECTIONS[2].__dict__["apply"]

    models = ReadModels(city.files, city.db, projections=(*PROJECTIONS[:2], DirectoryNewer))
    stop = threading.Event()
    runner = Runner(models.wake, [("all", models.catch_up)], start=models.upgrade)
    thread = threading.Thread(target=runner.run_forever, args=(stop,))
    thread.start()
    try:
        for _ in range(200):
            if {s["name"]: s["version"] for s in models.status()}["directory"] == newer:
                break
            threading.Event().wait(0.05)
    finally:
        stop.set()
        models.wake.set()
        assert join_all([thread])
    assert {s["name"]: s["version"] for s in models.status()}["directory"] == newer


def test_another_process_saving_wakes_the_runner_at_once(
    city: City, people: CitizenFactory
) -> None:
    if not city.settings.is_postgres:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; on SQLite each process wakes its own")
    runner_city = build(city.settings)  # another process, with a runner that never polls
    stop = threading.Event()
    runner_city.listen()
    runner = Runner(
        runner_city.read_models.wake,
        [("all", runner_city.read_models.catch_up)],
        poll_seconds=3600,
    )
    thread = threading.Thread(target=runner.run_forever, args=(stop,))
    thread.start()
    try:
        threading.Event().wait(0.5)  # it has caught up and gone to sleep for an hour
        people.register("醒")  # saved here, in this process
        position = city.files.head()
        assert runner_city.read_models.wait(position, "citizen_profile", timeout=20)
    finally:
        stop.set()
        runner_city.read_models.wake.set()
        assert join_all([thread])
        runner_city.close()


def test_keys_retire_removes_the_key(settings: Any) -> None:
    env = {
        "MYCITY_DATA_DIR": str(settings.data_dir),
        "MYCITY_DATABASE_URL": settings.database_url,
        "MYCITY_KEYS_DIR": str(settings.keys_dir),
    }
    ring_file = Path(settings.keys_dir) / "token-signing.json"
    old = json.loads(ring_file.read_text())["active"]
    runner = CliRunner()
    assert runner.invoke(cli, ["keys", "rotate", "token-signing"], env=env).exit_code == 0
    retired = runner.invoke(cli, ["keys", "retire", "token-signing", old], env=env)
    assert retired.exit_code == 0, retired.output
    ring = json.loads(ring_file.read_text())
    assert old not in {k["kid"] for k in ring["keys"]} and len(ring["keys"]) == 1
    active = runner.invoke(cli, ["keys", "retire", "token-signing", ring["active"]], env=env)
    assert active.exit_code == 2 and "rotate first" in active.output
