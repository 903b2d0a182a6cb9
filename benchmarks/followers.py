"""followers: what a follower of the log costs a write, with today's followers and with 32 more.

A write's latency, at one connection, is what a command takes plus what its answer waits
for: the runner folding the new event into the read model the answer reads. Every follower
used to make that wait longer; with one pass over the log for every follower it must not.
Measured in process, on PostgreSQL (SQLite if it cannot be reached, unless CI=true):

- `today`: every follower of the city as `mycity serve` runs them (the read models, the
  Merkle tree, the checkpoints, the processes, the lapse sweep), the runner in a thread;
- `plus32`: the same and 32 more read models, each wanting a topic the write never holds
  (what a capability's read model costs the writes of the others).

Each write is a citizen's contact change through the use case, then the wait until
`citizen_profile` includes it (what `changeContact`'s answer waits for). Rounds alternate
the two; each round's p50 and p99 over its writes, the median round counts. Target: plus32's
p50 and p99 at most 1.15x today's.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import singledispatchmethod
from pathlib import Path
from typing import Any

from benchmarks.citizens import resident_id
from benchmarks.common import (
    Report,
    note,
    postgres_required,
    postgres_schema,
    postgres_unreachable,
    running,
)
from mycity.bootstrap import City, build
from mycity.domain.register import Register
from mycity.identity.keys import KeyStore
from mycity.identity.principal import Principal
from mycity.projections.fanout import LogPass
from mycity.projections.fold import RowProjection
from mycity.projections.read_models import PROJECTIONS, ReadModels
from mycity.projections.runner import Runner
from mycity.projections.store import Row, TableSpec
from mycity.settings import ReadModelSettings, Settings

EXTRA = 32
CITIZENS = 50
TARGET = 1.15


def idle(n: int) -> type[RowProjection]:
    """A read model that wants a topic a contact change never holds."""

    class Idle(RowProjection):
        name = f"bench_idle_{n}"
        spec = TableSpec(columns=(("id", "TEXT"), ("n", "INTEGER NOT NULL")))

        @singledispatchmethod
        def apply(self, event: Any, row: Row | None) -> Row | None:
            return row

        @apply.register
        def _(self, event: Register.Opened, row: Row | None) -> Row:
            return {"id": str(event.originator_id), "n": 0}

    return Idle


@dataclass
class Setup:
    city: City
    models: ReadModels
    runner: Runner
    people: list[Principal]


def setup(city: City, extra: int) -> Setup:
    models = ReadModels(
        city.files, city.db, projections=(*PROJECTIONS, *(idle(n) for n in range(extra)))
    )
    models.setup()
    city.files.on_saved.append(models.wake.set)
    log_pass = LogPass(city.files, models, [city.tree], city.processes)
    runner = Runner(
        models.wake,
        [
            ("the log's followers", log_pass.run_once),
            ("checkpoints", city.audit.sign_if_due),
            ("lapses", city.lapses.sweep_if_due),
        ],
    )
    people = []
    for i in range(CITIZENS):
        citizen, _ = city.citizens.open_file(resident_id(i), f"跟随{i}", f"1390736{i:04d}")
        people.append(Principal.of_citizen(citizen.id, f"跟随{i}"))
    runner.run_once()
    return Setup(city, models, runner, people)


def writes(s: Setup, count: int, start: int) -> list[float]:
    """Milliseconds of each write: the command, then its answer's wait."""
    took = []
    with running(s.runner):
        for i in range(count):
            person = s.people[(start + i) % len(s.people)]
            began = time.perf_counter()
            position = s.city.citizens.change_contact(person, None, None, f"人民路{start + i}号")
            if not s.models.wait(position, "citizen_profile", timeout=10):
                raise RuntimeError("the runner did not fold a write within 10 s")
            took.append((time.perf_counter() - began) * 1000)
    return took


def p99(values: list[float]) -> float:
    return sorted(values)[max(int(len(values) * 0.99) - 1, 0)]


@contextmanager
def store(name: str, report: Report) -> Iterator[str]:
    """A PostgreSQL schema, or an SQLite file if PostgreSQL cannot be reached."""
    problem = postgres_unreachable()
    if problem is None:
        with postgres_schema(name) as url:
            yield url
        return
    if postgres_required():
        raise RuntimeError(f"PostgreSQL is required (CI=true): {problem}")
    report.note(f"PostgreSQL unreachable ({problem}): SQLite instead")
    with tempfile.TemporaryDirectory() as folder:
        yield str(Path(folder) / "mycity.sqlite")


def run(quick: bool) -> Report:
    report = Report("followers", quick)
    rounds, per_round = (3, 100) if quick else (7, 300)
    report.sizes = {"rounds": rounds, "writes_per_round": per_round, "extra_read_models": EXTRA}
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        keys = Path(folder) / "keys"
        KeyStore(keys, generate_missing=True).init()
        setups = {}
        for variant, extra in (("today", 0), ("plus32", EXTRA)):
            url = stack.enter_context(store(f"bench_followers_{variant}", report))
            settings = Settings(
                data_dir=Path(folder) / variant,
                database_url=url,
                keys_dir=keys,
                read_models=ReadModelSettings(inline=False),
            )
            city = build(settings)
            stack.callback(city.close)
            setups[variant] = setup(city, extra)
        followers = {
            v: len(s.models.classes) + 3 + len(s.city.processes) for v, s in setups.items()
        }
        report.sizes["followers"] = followers
        results: dict[str, list[tuple[float, float]]] = {v: [] for v in setups}
        writes(setups["today"], 20, 0)  # warm-up, both
        writes(setups["plus32"], 20, 0)
        for r in range(rounds):
            for variant, s in setups.items():
                took = writes(s, per_round, (r + 1) * per_round)
                results[variant].append((statistics.median(took), p99(took)))
                note(f"round {r + 1} {variant}: p50 {results[variant][-1][0]:.2f} ms, "
                     f"p99 {results[variant][-1][1]:.2f} ms")  # fmt: skip
        for variant in setups:
            report.add(
                f"{variant}_p50_ms_1conn",
                statistics.median(p50 for p50, _ in results[variant]),
                "ms",
                "today_p50_ms_1conn",
            )
            report.add(
                f"{variant}_p99_ms_1conn",
                statistics.median(p for _, p in results[variant]),
                "ms",
                "today_p99_ms_1conn",
            )
    for measure in ("p50", "p99"):
        ratio = report.ratio(f"plus32_{measure}_ms_1conn") or 0.0
        report.checks[f"plus32_{measure}_within_{TARGET}x"] = ratio <= TARGET
    return report
