"""A long log rebuilt in shards, each in a process of its own: every read model rebuilt by
shards equals the live one (erased people in the log), a shard's process that dies
abandons the rebuild and leaves readers on the live generation, and the length of log
from which a rebuild is sharded is kept exactly."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mycity.bootstrap import City
from mycity.bootstrap_log import ShardedFolds, ShardFailed
from mycity.projections.citizen_profile import ELSEWHERE, CitizenProfile
from mycity.projections.read_models import PROJECTIONS, ReadModels
from mycity.projections.shards import _shard_select, fold_shard, shard_of
from mycity.projections.store import ReadModelStore
from mycity.settings import Settings, SettingsError
from mycity.store.sql import Database
from tests.helpers import CitizenFactory
from tests.test_rebuild_after_erasure import a_city_with_the_erased, rows


@dataclass
class InProcess:
    """The shards folded one after the other in this process, in pages of 7: the same
    folds as the processes', cheap enough to run for every read model."""

    models: ReadModels
    workers: int = 3
    heads: list[int] = field(default_factory=list)

    def __call__(
        self,
        name: str,
        generation: int,
        head: int,
        page_size: int,
        progress: Callable[[int, int], None] | None,
    ) -> int:
        self.heads.append(head)
        projection = self.models.projection(name, self.models.store(name, generation))
        return sum(
            fold_shard(self.models.app, projection, shard, self.workers, head, 7)
            for shard in range(self.workers)
        )


def sharded(city: City, shards: Any) -> None:
    city.read_models.shards = shards
    city.read_models.sharded_from = 0


def test_every_read_model_rebuilt_in_shards_equals_the_live_one(
    city: City, people: CitizenFactory
) -> None:
    a_city_with_the_erased(city, people)
    live = {p.name: rows(city, p.name) for p in PROJECTIONS}
    shards = InProcess(city.read_models)
    sharded(city, shards)
    for projection in PROJECTIONS:
        city.read_models.rebuild(projection.name)
        assert rows(city, projection.name) == live[projection.name], projection.name
    assert shards.heads == [city.files.head()] * len(PROJECTIONS)


def indexes(db: Database, view: str) -> set[str]:
    """The names of a table's indexes other than its key's."""
    with db.read() as cur:
        if db.dialect == "sqlite":
            found = cur.execute(  # a key's index has no statement of its own
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL",
                [view],
            ).fetchall()
            return {row["name"] for row in found}
        found = cur.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = ? AND tablename = ?",
            [db.schema, view],
        ).fetchall()
        return {row["indexname"] for row in found} - {f"{view}_pkey"}


@pytest.mark.parametrize("in_shards", [False, True], ids=["one process", "shards"])
def test_a_rebuild_indexes_its_table_once_full_unless_its_fold_reads_an_index(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch, in_shards: bool
) -> None:
    """Rows written into an unindexed table, then indexed at once, cost less than each
    row's index entries; a fold that looks rows up by an index finds it there from the
    start."""
    a_city_with_the_erased(city, people)
    if in_shards:
        sharded(city, InProcess(city.read_models))
    while_folding: dict[str, set[str]] = {}
    write_rows = ReadModelStore.write_rows

    def noting_the_indexes(store: ReadModelStore, cur: Any, changed: Any) -> None:
        while_folding.setdefault(store.view_name, indexes(city.db, store.view_name))
        write_rows(store, cur, changed)

    monkeypatch.setattr(ReadModelStore, "write_rows", noting_the_indexes)
    for projection in PROJECTIONS:
        view = f"{projection.name}_g{city.read_models.rebuild(projection.name)['generation']}"
        declared = {f"{view}_{'_'.join(index)}" for index in projection.spec.indexes}
        assert indexes(city.db, view) == declared, view
        if view in while_folding:
            assert while_folding[view] == (declared if projection.folds_by_index else set())
    folded = {view.rsplit("_g", 1)[0]: found for view, found in while_folding.items()}
    assert {"directory", "subject_history", "fare_days"} <= set(folded)
    assert [name for name, found in folded.items() if found] == ["subject_history"]


def test_shards_in_processes_of_their_own_fold_what_one_process_would(
    city: City, people: CitizenFactory
) -> None:
    a_city_with_the_erased(city, people)
    names = ("citizen_profile", "subject_history")  # a key told only by some events; raw
    live = {name: rows(city, name) for name in names}
    sharded(city, ShardedFolds(city.settings, 2))
    for name in names:
        seen: list[tuple[int, int]] = []
        result = city.read_models.rebuild(name, lambda at, head, into=seen: into.append((at, head)))
        assert rows(city, name) == live[name], name
        assert result["generation"] == 2 and result["position"] == city.files.head()
        assert seen and seen[-1] == (city.files.head(), city.files.head())


def dies(*args: Any, **kwargs: Any) -> None:
    """A shard's process killed mid-fold, as by kill -9: no word back."""
    os._exit(9)


def test_a_shard_that_dies_abandons_the_rebuild_and_readers_keep_the_live_one(
    city: City, people: CitizenFactory
) -> None:
    a_city_with_the_erased(city, people)
    before = rows(city, "directory")
    sharded(city, ShardedFolds(city.settings, 2, target=dies))
    with pytest.raises(ShardFailed, match="ended with 9"):
        city.read_models.rebuild("directory")
    assert city.read_models.generations.active("directory")[0] == 1
    assert rows(city, "directory") == before
    sharded(city, ShardedFolds(city.settings, 2))
    assert city.read_models.rebuild("directory")["generation"] == 2
    assert rows(city, "directory") == before


def tells_its_parent(*args: Any, results: Any, **kwargs: Any) -> None:
    """A shard's process that folds nothing and says which process forked it."""
    results.put((args[3], os.getppid()))


def test_shard_processes_are_forked_by_one_server_not_by_the_city(tmp_path: Path) -> None:
    """Not forked from the city (its threads and connections are not theirs), and by the
    same server at every rebuild (the code imported once)."""
    settings = Settings(data_dir=tmp_path, database_url="unused", keys_dir=tmp_path)
    folds = ShardedFolds(settings, 2, target=tells_its_parent)
    first, second = (folds("directory", 1, 0, 1, None) for _ in range(2))  # 2 shards' sum
    assert first == second == 2 * (first // 2)
    assert first // 2 != os.getpid()


@pytest.mark.parametrize(("from_head", "in_shards"), [(0, True), (1, False)])
def test_a_log_is_sharded_from_exactly_its_length(
    city: City, people: CitizenFactory, from_head: int, in_shards: bool
) -> None:
    people.register("分片", verified=True)
    shards = InProcess(city.read_models)
    sharded(city, shards)
    city.read_models.sharded_from = city.files.head() + from_head
    city.read_models.rebuild("citizen_profile")
    assert bool(shards.heads) is in_shards


def test_one_worker_rebuilds_in_one_process(city: City, people: CitizenFactory) -> None:
    people.register("一个", verified=True)
    shards = InProcess(city.read_models, workers=1)
    sharded(city, shards)
    city.read_models.rebuild("citizen_profile")
    assert shards.heads == []


@pytest.mark.parametrize(
    "keys",
    [
        [str(uuid.UUID(int=random.Random(n).getrandbits(128))) for n in range(3000)],  # streams
        [f"{uuid.UUID(int=n)}/{n}" for n in range(3000)],  # other keys: hashed
    ],
)
def test_every_key_has_one_shard_spread_evenly(keys: list[str]) -> None:
    counts = [sum(1 for k in keys if shard_of(k, 3) == s) for s in range(3)]
    assert all(900 < c < 1100 for c in counts), counts
    assert all(shard_of(k, 3) == shard_of(k, 3) for k in keys[:10])


@pytest.mark.parametrize("shards", [2, 3])
def test_the_database_leaves_out_exactly_the_other_shards_streams(
    city: City, people: CitizenFactory, shards: int
) -> None:
    """What the database (either) sends a shard is what the shard would keep of the log, and
    every record of the topics whose shard only decoding tells."""
    models = city.read_models
    profile = models.projection("citizen_profile", models.store("citizen_profile", 1))
    a_city_with_the_erased(city, people)
    head = city.files.head()
    every = city.files.recorder.select_notifications(0, limit=head + 1, stop=head)
    assert len({r.originator_id for r in every}) > 10
    topics = CitizenProfile.topics
    for shard in range(shards):
        select = _shard_select(city.files, profile, shard, shards)
        assert select is not None
        sent = [r.id for r in select(0, head + 1, head, topics)]
        wanted = [
            r.id
            for r in every
            if r.topic in topics
            and (r.topic in ELSEWHERE or shard_of(str(r.originator_id), shards) == shard)
        ]
        assert sent == wanted
        paged = [r.id for r in select(0, 3, head, topics)]
        assert paged == wanted[:3]


@pytest.mark.parametrize(("value", "workers"), [("1", 1), ("2", 2), ("", os.cpu_count() or 1)])
def test_rebuild_workers_are_set_by_the_environment(value: str, workers: int) -> None:
    found = Settings.from_env({"MYCITY_REBUILD_WORKERS": value})
    assert found.read_models.rebuild_workers == workers


def test_no_rebuild_workers_is_refused() -> None:
    with pytest.raises(SettingsError, match="MYCITY_REBUILD_WORKERS"):
        Settings.from_env({"MYCITY_REBUILD_WORKERS": "0"})
