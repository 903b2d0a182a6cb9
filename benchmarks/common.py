"""What every benchmark shares: the report, timing, and a throwaway PostgreSQL schema."""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from mycity.projections.runner import Runner

POSTGRES_URL = os.environ.get(
    "MYCITY_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def note(message: str) -> None:
    """Progress for the human watching: stderr, so stdout ends with the JSON line."""
    print(message, file=sys.stderr, flush=True)


def per_second(action: Callable[[], int]) -> float:
    """Run the action once: what it counted (events, registrations...) per second."""
    started = time.perf_counter()
    count = action()
    return count / (time.perf_counter() - started)


def median(values: list[float]) -> float:
    return statistics.median(values)


@dataclass(frozen=True)
class Figure:
    value: float
    unit: str
    baseline: str  # the name of the figure this one is compared with; itself for a baseline


@dataclass
class Report:
    """The figures of one run; `to_json` gives each with its ratio to its baseline."""

    benchmark: str
    quick: bool
    figures: dict[str, Figure] = field(default_factory=dict)
    sizes: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str, baseline: str | None = None) -> None:
        self.figures[name] = Figure(value, unit, baseline or name)

    def note(self, message: str) -> None:
        self.notes.append(message)
        note(message)

    def ratio(self, name: str) -> float | None:
        figure = self.figures[name]
        base = self.figures[figure.baseline]
        if base.unit != figure.unit:
            raise ValueError(f"{name} ({figure.unit}) vs {figure.baseline} ({base.unit})")
        return round(figure.value / base.value, 3) if base.value else None

    def to_json(self) -> str:
        figures = {
            name: {
                "value": round(f.value, 1),
                "unit": f.unit,
                "baseline": f.baseline,
                "ratio": self.ratio(name),
            }
            for name, f in self.figures.items()
        }
        return json.dumps(
            {
                "benchmark": self.benchmark,
                "quick": self.quick,
                "figures": figures,
                "sizes": self.sizes,
                "checks": self.checks,
                "notes": self.notes,
            },
            ensure_ascii=False,
        )


def postgres_unreachable(url: str = POSTGRES_URL) -> str | None:
    """Why PostgreSQL cannot be used, or None if it answers."""
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as e:
        return f"{type(e).__name__}: {' '.join(str(e).split())}"
    return None


def postgres_required() -> bool:
    """In CI PostgreSQL must be there: a benchmark fails rather than skip it."""
    return os.environ.get("CI", "").strip().lower() == "true"


@contextmanager
def postgres_schema(name: str, url: str = POSTGRES_URL) -> Iterator[str]:
    """A fresh schema for the duration; yields the URL mycity's settings take (`?schema=`)."""

    def execute(statement: LiteralString) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL(statement).format(sql.Identifier(name)))

    execute("DROP SCHEMA IF EXISTS {} CASCADE")
    execute("CREATE SCHEMA {}")
    try:
        yield f"{url}{'&' if '?' in url else '?'}schema={name}"
    finally:
        execute("DROP SCHEMA IF EXISTS {} CASCADE")


@contextmanager
def running(runner: Runner | None) -> Iterator[None]:
    """The runner in a thread of its own for the duration (nothing for None), then stopped."""
    if runner is None:
        yield
        return
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(stop,), name="bench-runner")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        runner.wake.set()
        thread.join()
