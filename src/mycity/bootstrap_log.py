"""Opening the log and its store, for the city and for the processes a sharded rebuild
starts: each shard of a read model folded in a process of its own, the rebuild waiting
for them all.

The shards' processes are forked by a server process (multiprocessing's `forkserver`)
that was itself started fresh and has imported this module once: a shard inherits
nothing of the city's but the settings it is sent (no threads, no connections), and
does not import the code again (half a second or more a process, every rebuild)."""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mycity.identity.keys import Keys, KeyStore
from mycity.projections.read_models import ReadModels
from mycity.projections.shards import fold_shard
from mycity.settings import Settings
from mycity.store.environment import eventsourcing_env, schema_of
from mycity.store.files import CityFiles
from mycity.store.sql import Database
from mycity.store.vault import Vault

log = logging.getLogger(__name__)
POLL_S = 0.2  # how often the rebuild looks at its shards' progress and health


def open_log(
    settings: Settings, keys: Keys, *, create: bool = True
) -> tuple[Vault, CityFiles, Database]:
    """The people's keys, the log and the database beside it; its tables made if missing,
    unless they are known to be there (processes opening at once would race to make them:
    PostgreSQL refuses one with "tuple concurrently updated")."""
    vault = Vault(keys.data_key_master)
    env = eventsourcing_env(settings, keys.event_cipher)
    files = CityFiles(env if create else env | {"CREATE_TABLE": "n"}, vault)
    datastore: Any = files.recorder.datastore  # type: ignore[attr-defined]
    db = Database(
        datastore,
        "postgres" if settings.is_postgres else "sqlite",
        schema_of(settings) if settings.is_postgres else "",
    )
    vault.attach(db)
    return vault, files, db


def fold_in_process(
    settings: Settings,
    name: str,
    generation: int,
    shard: int,
    shards: int,
    head: int,
    page_size: int,
    *,
    reached: Any,
    results: Any,
) -> None:
    """One shard's process: its outcome (how many it folded, or why it failed) goes back on
    `results`, its position after each page into `reached`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the rebuild's to handle
    files = None
    try:
        keys = KeyStore(settings.keys_dir, generate_missing=False).load()
        _, files, db = open_log(settings, keys, create=False)
        read_models = ReadModels(files, db)
        projection = read_models.projection(name, read_models.store(name, generation))

        def at(position: int) -> None:
            reached[shard] = position

        results.put((shard, fold_shard(files, projection, shard, shards, head, page_size, at)))
    except Exception as e:  # told to the rebuild, which gives up
        log.exception("shard %s of %s failed", shard, name)
        results.put((shard, f"{type(e).__name__}: {e}"))
    finally:
        if files is not None:
            files.close()


class ShardFailed(RuntimeError):
    """A shard's process failed or died: the rebuild is abandoned, the live one untouched."""


@dataclass(frozen=True)
class ShardedFolds:
    """Folds a read model's new generation up to a head in `workers` processes."""

    settings: Settings
    workers: int
    target: Callable[..., None] = fold_in_process  # what each process runs

    def __call__(
        self,
        name: str,
        generation: int,
        head: int,
        page_size: int,
        progress: Callable[[int, int], None] | None,
    ) -> int:
        context = shard_processes()
        reached = context.Array("q", self.workers, lock=False)
        results: Any = context.Queue()
        shards = [
            context.Process(
                target=self.target,
                args=(self.settings, name, generation, shard, self.workers, head, page_size),
                kwargs={"reached": reached, "results": results},
                name=f"mycity-rebuild-{name}-{shard}",
                daemon=True,
            )
            for shard in range(self.workers)
        ]
        for process in shards:
            process.start()
        folded: dict[int, int] = {}
        try:
            while len(folded) < self.workers:
                try:
                    shard, outcome = results.get(timeout=POLL_S)
                except queue.Empty:
                    _check_alive(shards, folded)
                    if progress:
                        progress(min(reached), head)
                    continue
                if isinstance(outcome, str):
                    raise ShardFailed(f"shard {shard} of {name} failed: {outcome}")
                folded[shard] = outcome
            if progress:
                progress(head, head)
        finally:
            for process in shards:
                if process.is_alive():
                    process.terminate()
                process.join()
            results.close()
        return sum(folded.values())


def shard_processes() -> Any:
    """Where shard processes come from: forked by a server that has imported this module
    and the program's main one (started by the first rebuild that needs it, ended with
    this process)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __name__])
    return context


def _check_alive(shards: list[Any], folded: dict[int, int]) -> None:
    for shard, process in enumerate(shards):
        if shard not in folded and process.exitcode not in (None, 0):
            raise ShardFailed(f"shard {shard}'s process ended with {process.exitcode}")
