"""http: mycity over HTTP, 2 workers, against a strawberry hello-world served the same way.

Needs wrk (Debian's wrk 4.1, built with LuaJIT): `apt-get install -y wrk`.

For `--loop uvloop` and then `--loop asyncio`, both servers are started afresh as
subprocesses: `benchmarks.hello` under `python -m mycity.server --workers 2` (the worker
processes, sockets and protocol of mycity's own), and `mycity serve --workers 2` on a fresh
PostgreSQL schema (SQLite if PostgreSQL is unreachable, unless CI=true), with a pool of citizens
registered through GraphQL. Three requests, each `POST /graphql`, with a random citizen's
token: `hello` (`{ hello }`, the baseline), `me` (a read) and `write` (`changeContact` to a
new address: one event). For each in turn:

1. throughput: wrk closed loop, 32 connections, after a warm-up run (req/s, as a ratio to
   hello's);
2. latency at half that throughput: open loop at a constant rate (fixed slots, latency from
   each slot, see benchmarks/wrk/graphql.lua), one connection per wrk thread: p50, p99 and
   the rate achieved;
3. latency at 1 connection, closed loop: p50, p99;

then `me`'s throughput again, after the writes: a file is replayed from its events.

Each worker listens on its own socket (SO_REUSEPORT) and the kernel spreads connections over
them; the spread is still checked: a run where one worker holds more than 70 % of them is
done once more (full run), and the spread is reported. Every answer is checked: a non-200
status, `"errors"` or a non-empty `"userErrors"` is counted, and fails the target its run
measures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic

from benchmarks.citizens import register_pool
from benchmarks.common import (
    Report,
    note,
    postgres_required,
    postgres_schema,
    postgres_unreachable,
)
from benchmarks.loadgen import Run, closed_loop, open_loop, require_wrk, wrk_version
from benchmarks.servers import ROOT, connections_per_process, free_port, post_graphql, serving
from mycity.bootstrap import City
from mycity.identity.keys import KeyStore

LOOPS = ("uvloop", "asyncio")
QUERIES = ("hello", "me", "write")
WORKERS = 2
CONNECTIONS = 32  # closed loop, for throughput
OPEN_CONNECTIONS = 32  # open loop: requests that can be in flight at once
TOKEN_SECONDS = "7200"  # access tokens outlive the run

THROUGHPUT_TARGETS = {"me": 0.5, "write": 0.3}  # ratio to hello's req/s, at least
HALF_P99_TARGETS_MS = {"me": 50, "write": 100}  # at half the throughput, at most
ONE_CONNECTION_P99_TARGET_MS = 20  # me and write, at most
MISSED_SLOTS_ALLOWED = 0.01  # an open loop that missed more has no trustworthy p99
MOST_IN_ONE_WORKER = 0.7  # of a run's connections; more, and the run is done again
LOG_IN = """mutation($id: String!, $secret: String!) {
  logInWithClientCredentials(input: {clientId: $id, clientSecret: $secret}) {
    tokens { accessToken } userErrors { code message }
  }
}"""


@dataclass(frozen=True)
class Sizes:
    pool: int  # citizens registered
    warmup_s: int
    throughput_s: int
    half_s: int  # open loop, me and write
    half_hello_s: int  # open loop, hello (not a target: how low the floor is)
    one_connection_s: int
    attempts: int  # of a run whose connections one worker holds most of


def sizes(quick: bool) -> Sizes:
    if quick:
        return Sizes(100, 1, 2, 3, 2, 1, attempts=1)
    return Sizes(1000, 2, 10, 20, 8, 8, attempts=2)


class Seconds(Protocol):
    """How long each kind of run lasts (the Sizes of http and of the benchmarks built on it)."""

    @property
    def warmup_s(self) -> int: ...
    @property
    def throughput_s(self) -> int: ...
    @property
    def half_s(self) -> int: ...
    @property
    def half_hello_s(self) -> int: ...
    @property
    def one_connection_s(self) -> int: ...


def choose_store(report: Report) -> str:
    """postgres, or sqlite if PostgreSQL is unreachable (noted; in CI that fails instead)."""
    if reason := postgres_unreachable():
        if postgres_required():
            raise SystemExit(f"PostgreSQL is unreachable and CI=true: {reason}")
        report.note(f"PostgreSQL is unreachable ({reason}): serving from SQLite")
        return "sqlite"
    return "postgres"


def city_environment(
    stack: ExitStack, store: str, keys: Path, tmp: Path, name: str = "http"
) -> dict[str, str]:
    """mycity's settings: a fresh store (schema `bench_<pid>_<name>`), the pre-created keys,
    long-lived access tokens."""
    if store == "postgres":
        database_url = stack.enter_context(postgres_schema(f"bench_{os.getpid()}_{name}"))
    else:
        database_url = str(tmp / "mycity.sqlite")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYCITY_")}
    return env | {
        "MYCITY_DATA_DIR": str(tmp / "data"),
        "MYCITY_KEYS_DIR": str(keys),
        "MYCITY_DATABASE_URL": database_url,
        "MYCITY_ACCESS_TOKEN_SECONDS": TOKEN_SECONDS,
        # The pool signs up from one address: more codes than one client may ask for.
        "MYCITY_PHONE_CODES_PER_ADDRESS": "100000",
    }


def settle(city: City) -> None:
    """Let the read models and the processes follow the log to its head."""
    for _ in range(10):
        if not city.runner().run_once():
            return


def events_recorded(city: City, event: type[DomainEvent]) -> int:
    """How many events of this class the log holds."""
    topic, start, count = get_topic(event), None, 0
    while page := city.files.recorder.select_notifications(start, 10_000, topics=[topic]):
        count += len(page)
        start = page[-1].id + 1
    return count


def log_in(url: str, client_id: str, secret: str) -> str:
    """A partner's or staff client's access token, over GraphQL."""
    answer = post_graphql(url, LOG_IN, {"id": client_id, "secret": secret})
    payload = (answer.get("data") or {}).get("logInWithClientCredentials")
    if answer.get("errors") or not payload or payload["userErrors"]:
        raise RuntimeError(f"logInWithClientCredentials: {answer}")
    return str(payload["tokens"]["accessToken"])


def hello_command(port: int, loop: str) -> list[str]:
    return [
        *(sys.executable, "-m", "mycity.server", "benchmarks.hello:create_app"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)),
        *("--loop", loop),
    ]


def city_command(port: int, loop: str) -> list[str]:
    mycity = str(Path(sys.executable).with_name("mycity"))
    return [mycity, "serve", "--workers", str(WORKERS), "--port", str(port), "--loop", loop]


def serve_both(stack: ExitStack, loop: str, env: dict[str, str], tmp: Path) -> tuple[str, str]:
    """The hello-world and mycity (with these settings), each `--workers 2 --loop L` on a
    free port, until the stack closes: their GraphQL URLs."""
    ports = free_port(), free_port()
    note(f"[{loop}] starting the servers")
    hello = stack.enter_context(
        serving(hello_command(ports[0], loop), ports[0], os.environ, tmp / "hello.log", WORKERS)
    )
    city = stack.enter_context(
        serving(city_command(ports[1], loop), ports[1], env, tmp / "mycity.log", WORKERS)
    )
    return hello, city


@dataclass
class Answers:
    """What the runs of one request got, all told (warm-ups and second tries too)."""

    good: int = 0  # correct answers
    bad: int = 0  # the others: bad status, errors, user errors, not valid, socket errors
    unanswered: int = 0  # at most this many more were in flight when wrk stopped a run


class Bench:
    """One loop's runs against its two servers, and the figures and checks they give."""

    def __init__(
        self, report: Report, loop: str, urls: dict[str, str], tokens: Path, attempts: int
    ) -> None:
        self.report, self.loop, self.urls, self.tokens = report, loop, urls, tokens
        self.attempts = attempts
        self.writes = 0  # each one event more in some citizen's file
        self.answers: defaultdict[str, Answers] = defaultdict(Answers)  # by request
        self.hello_rps, self.me_rps = f"{loop}.hello_rps", f"{loop}.me_rps"

    def wrk(self, query: str, kind: str, attempt: Callable[..., Run], **options: Any) -> Run:
        """One wrk run, done again (up to `attempts` times) while one worker holds most of its
        connections; the bad answers of every attempt are noted."""
        name = f"{self.loop}.{query}.{kind}"
        url, tokens = self.urls[query], None if query == "hello" else self.tokens
        probe = None  # warm-ups and single connections need no even spread
        if kind != "warmup" and options["connections"] > 1:
            probe = partial(connections_per_process, urlsplit(url).port)
        for n in range(1, self.attempts + 1):
            run = attempt(url, query, tokens=tokens, probe=probe, **options)
            self.writes += run.responses if query == "write" else 0
            answers = self.answers[query]
            answers.good, answers.bad = answers.good + run.good, answers.bad + run.bad_count
            answers.unanswered += options["connections"]
            if run.bad_count:
                bad = self.report.checks.setdefault("bad_answers_by_run", {})
                bad[name if n == 1 else f"{name}.{n}"] = run.bad
                self.report.note(f"{name}: {run.bad_count} bad answers, e.g. {run.sample}")
            if not run.spread or run.spread[0] <= MOST_IN_ONE_WORKER * sum(run.spread):
                break
            if n < self.attempts:
                note(f"{name}: connections per worker {run.spread}, again")
            else:
                self.report.note(f"{name}: connections per worker {run.spread}, kept")
        seen = {"connections_per_worker": run.spread, "wrk_cores": round(run.wrk_cores, 2)}
        self.report.sizes.setdefault("runs", {})[name] = seen
        return run

    def check(self, name: str, met: bool, *runs: Run) -> None:
        """A target is met only by a figure whose every answer was right."""
        self.report.checks[f"{self.loop}.{name}"] = met and not any(r.bad_count for r in runs)

    def throughput(self, query: str, seconds: int, kind: str = "throughput") -> Run:
        run = self.wrk(query, kind, closed_loop, connections=CONNECTIONS, seconds=seconds)
        note(f"[{self.loop}] {query} {kind}: {run.rps:,.0f} req/s at {CONNECTIONS} connections")
        return run

    def at_half(self, query: str, seconds: int) -> Run:
        name = f"{self.loop}.{query}"
        rate = self.report.figures[f"{name}_rps"].value / 2
        run = self.wrk(
            query, "half", open_loop, rate=rate, connections=OPEN_CONNECTIONS, seconds=seconds
        )
        assert run.slots is not None
        offered = f"{name}_offered_rps_at_half"
        self.report.add(offered, run.slots / run.seconds, "req/s")
        self.report.add(f"{name}_achieved_rps_at_half", run.rps, "req/s", offered)
        self.report.add(f"{name}_p50_ms_at_half", run.p50_ms, "ms")
        self.report.add(f"{name}_p99_ms_at_half", run.p99_ms, "ms")
        self.report.checks[f"{name}_missed_slots_at_half"] = run.slots - run.responses
        note(
            f"[{self.loop}] {query} at {rate:,.0f} req/s offered ({run.rps:,.0f} achieved, "
            f"{run.slots - run.responses} unanswered): p50 {run.p50_ms:.1f} ms, "
            f"p99 {run.p99_ms:.1f} ms, max {run.max_ms:.1f} ms"
        )
        return run

    def one_connection(self, query: str, seconds: int) -> Run:
        name = f"{self.loop}.{query}"
        run = self.wrk(query, "one_connection", closed_loop, connections=1, seconds=seconds)
        self.report.add(f"{name}_p50_ms_1conn", run.p50_ms, "ms")
        self.report.add(f"{name}_p99_ms_1conn", run.p99_ms, "ms")
        note(
            f"[{self.loop}] {query} at 1 connection: {run.rps:,.0f} req/s, "
            f"p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms"
        )
        return run

    def all(self, size: Sizes) -> None:
        """Each request's runs one after the other, so that its rate at half load is half
        of what it could do in the same state; then `me` again after the writes."""
        runs: dict[str, dict[str, Run]] = {}
        for query in QUERIES:
            self.wrk(query, "warmup", closed_loop, connections=CONNECTIONS, seconds=size.warmup_s)
            throughput = self.throughput(query, size.throughput_s)
            self.report.add(f"{self.loop}.{query}_rps", throughput.rps, "req/s", self.hello_rps)
            half_s = size.half_hello_s if query == "hello" else size.half_s
            runs[query] = {
                "throughput": throughput,
                "half": self.at_half(query, half_s),
                "single": self.one_connection(query, size.one_connection_s),
            }
        after = self.throughput("me", size.throughput_s, kind="after_writes")
        self.report.add(f"{self.loop}.me_rps_after_writes", after.rps, "req/s", self.me_rps)
        self.report.sizes.setdefault("writes", {})[self.loop] = self.writes
        self.judge(runs)

    def against_hello(self, query: str, size: Seconds) -> dict[str, dict[str, Run]]:
        """hello's runs (the baseline), then the query's: throughput after a warm-up, half
        of it (with its max), one connection."""
        runs: dict[str, dict[str, Run]] = {}
        for name in ("hello", query):
            self.wrk(name, "warmup", closed_loop, connections=CONNECTIONS, seconds=size.warmup_s)
            throughput = self.throughput(name, size.throughput_s)
            self.report.add(f"{self.loop}.{name}_rps", throughput.rps, "req/s", self.hello_rps)
            half = self.at_half(name, size.half_hello_s if name == "hello" else size.half_s)
            self.report.add(f"{self.loop}.{name}_max_ms_at_half", half.max_ms, "ms")
            runs[name] = {
                "throughput": throughput,
                "half": half,
                "single": self.one_connection(name, size.one_connection_s),
            }
        return runs

    def judge(self, runs: dict[str, dict[str, Run]]) -> None:
        for query, least in THROUGHPUT_TARGETS.items():
            self.check_throughput(runs, query, least)
        for query, most in HALF_P99_TARGETS_MS.items():
            self.check_half(runs, query, most)
        for query in THROUGHPUT_TARGETS:
            self.check_one_connection(runs, query, ONE_CONNECTION_P99_TARGET_MS)

    def check_throughput(self, runs: dict[str, dict[str, Run]], query: str, least: float) -> None:
        """The query's req/s at least `least` of hello's."""
        ratio = self.report.ratio(f"{self.loop}.{query}_rps") or 0.0
        both = (runs[query]["throughput"], runs["hello"]["throughput"])
        self.check(f"{query}_rps_ratio_ge_{least}", ratio >= least, *both)

    def check_half(self, runs: dict[str, dict[str, Run]], query: str, most: float) -> None:
        """p99 at most `most` ms at half the throughput, and (nearly) every slot answered."""
        run = runs[query]["half"]
        assert run.slots is not None
        kept_up = run.slots - run.responses <= MISSED_SLOTS_ALLOWED * run.slots
        self.check(f"{query}_p99_ms_at_half_le_{most}", run.p99_ms <= most and kept_up, run)

    def check_one_connection(
        self, runs: dict[str, dict[str, Run]], query: str, most: float
    ) -> None:
        run = runs[query]["single"]
        self.check(f"{query}_p99_ms_1conn_le_{most}", run.p99_ms <= most, run)


def git_commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "log", "--oneline", "-1"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "src"], capture_output=True, text=True
    )
    return done.stdout.strip() + (" (+ uncommitted changes in src/)" if dirty.stdout else "")


def bench_loop(report: Report, loop: str, keys: Path, tmp: Path, size: Sizes) -> None:
    """Fresh servers, store and pool for this loop, so that the loops start alike (a
    citizen's file is replayed from its events: after the other loop's writes, slower)."""
    (tmp / "data").mkdir(parents=True)
    with ExitStack() as stack:
        env = city_environment(stack, report.sizes["store"], keys, tmp)
        hello, city = serve_both(stack, loop, env, tmp)
        started = time.monotonic()
        outbox = Path(env["MYCITY_DATA_DIR"]) / "sms-outbox.jsonl"
        tokens = register_pool(city, outbox, size.pool)
        note(f"[{loop}] registered {size.pool} citizens in {time.monotonic() - started:.1f} s")
        (tmp / "tokens.txt").write_text("".join(f"{t}\n" for t in tokens))
        urls = {"hello": hello, "me": city, "write": city}
        Bench(report, loop, urls, tmp / "tokens.txt", size.attempts).all(size)
        note(f"[{loop}] stopping the servers")


def http_setup(report: Report, size: Any) -> None:
    """What every benchmark over HTTP records of its set-up: the store it chose, wrk, the
    servers, and the seconds of each kind of run (the sizes' fields ending in `_s`)."""
    report.sizes.update(
        store=choose_store(report),
        wrk=wrk_version(),
        workers=WORKERS,
        connections=CONNECTIONS,
        open_loop_connections=OPEN_CONNECTIONS,
        seconds={k: v for k, v in vars(size).items() if k.endswith("_s")},
    )


BenchLoop = Callable[[Report, str, Path, Path, Any], None]


def run_loops(report: Report, size: Any, bench_loop: BenchLoop, recorded_check: str = "") -> None:
    """Each loop's fresh servers and runs, with keys made for them, then the verdict: the
    targets the loops met, and whether every answer was right (and, if `recorded_check`
    names one, each loop's count of recorded events)."""
    with tempfile.TemporaryDirectory(prefix="mycity-bench-") as tmp_name:
        tmp = Path(tmp_name)
        KeyStore(tmp / "keys", generate_missing=True).init()
        for loop in LOOPS:
            bench_loop(report, loop, tmp / "keys", tmp / loop, size)
    targets = [v for k, v in report.checks.items() if k.startswith(LOOPS) and isinstance(v, bool)]
    bad = report.checks.get("bad_answers_by_run", {})
    recorded = report.checks[recorded_check].values() if recorded_check else []
    report.checks["answers_correct"] = not bad and all(recorded)
    report.checks["all_targets_met"] = all(targets)
    report.note(
        f"Targets met: {sum(targets)} of {len(targets)}"
        + (f"; bad answers in {len(bad)} runs" if bad else "")
    )


def run(quick: bool) -> Report:
    require_wrk()
    report = Report("http", quick)
    size = sizes(quick)
    report.sizes.update(commit=git_commit(), pool=size.pool)
    http_setup(report, size)
    run_loops(report, size, bench_loop)
    return report
