"""licence_http: `verifyPresentation` over HTTP, 2 workers, against a strawberry hello-world.

The e-licences issue's target: a partner's `verifyPresentation` at least 0.5 of the
hello-world's req/s at 32 connections, served the same way in the same run, and p99 at most
50 ms under a steady offered load of half that throughput.

For `--loop uvloop` and then `--loop asyncio`, with fresh servers and a fresh store (see
benchmarks/http.py, whose servers, wrk runs and checks this reuses):

- before the servers start, a City built in this process from the servers' own settings
  (`build(Settings.from_env(env))`) registers `holders` verified citizens, each establishes
  a business through AMR-001 (uploads, accepted and approved by an AMR officer, the runner
  run until the issuance process has written the licence), and adds a VENUE client;
- once the servers run, the client logs in over GraphQL (`logInWithClientCredentials`);
- each request is `verifyPresentation` of a presentation of its own (two fields of one of
  the licences, in turn), with the client's token. A presentation verifies once (a second
  time it answers REPLAYED, cheaper), so before each wrk run this process makes enough of
  them for the run (`City.licences.present`, ~1 ms each) and wrk's thread j of N sends lines
  j, j+N, ... of that file; a thread that runs out fails the benchmark. An answer without
  `"valid": true` is counted as bad;
- runs as for http's requests: throughput (closed loop, 32 connections, after a warm-up),
  latency at half that throughput (open loop, latencies from each slot), latency at one
  connection; hello first, as the baseline, then verify.

At the end the LicenceUse events in the store are counted: one per valid answer, and at
most one more per connection of each run (requests still in flight when wrk stopped).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from benchmarks.citizens import resident_id
from benchmarks.common import Report, note
from benchmarks.http import (
    Bench,
    city_environment,
    events_recorded,
    git_commit,
    http_setup,
    log_in,
    run_loops,
    serve_both,
    settle,
)
from benchmarks.loadgen import DRAIN_MS, START_MS, Run, require_wrk
from mycity.bootstrap import City, build
from mycity.domain.licence import LicenceUse
from mycity.identity.principal import Principal, Role
from mycity.settings import Settings

THROUGHPUT_TARGET = 0.5  # verify's req/s over hello's, at least
HALF_P99_TARGET_MS = 50  # at half verify's throughput, at most
LIFETIME = 300  # seconds a presentation lives (the most `present` allows)
FIELDS = ["enterprise_name", "credit_code"]  # what each presentation shows
OFFICER = Principal("officer-bench", Role.OFFICER, "AMR", "压测")
CLIENT = "venue-bench"
PDF = b"%PDF-1.7 a scanned document"
WARMUP_GUESS_RPS = 1500  # the warm-up's supply, before anything is measured (~5x seen)
SUPPLY_MARGIN = 2.0  # closed loop: presentations for this many times the rate seen


@dataclass(frozen=True)
class Sizes:
    holders: int  # businesses, each with its licence; presentations take them in turn
    warmup_s: int
    throughput_s: int
    half_s: int  # open loop, verify
    half_hello_s: int  # open loop, hello (not a target: how low the floor is)
    one_connection_s: int
    attempts: int  # of a run whose connections one worker holds most of


def sizes(quick: bool) -> Sizes:
    if quick:
        return Sizes(4, 1, 2, 3, 2, 1, attempts=1)
    return Sizes(16, 2, 10, 20, 8, 8, attempts=2)


# -- the licences, in the benchmark's own City ----------------------------------------------


@dataclass(frozen=True)
class Holder:
    principal: Principal
    licence: UUID


def establish(city: City, i: int) -> Holder:
    """A verified citizen who registers a business through AMR-001, approved: its licence."""
    id_number, name, phone = resident_id(10_000 + i), f"压测店主{i}", f"138{i:08d}"
    citizen, _ = city.citizens.open_file(id_number, name, phone)
    founder = Principal.of_citizen(citizen.id, name)
    city.real_names.add(id_number, name, phone)  # type: ignore[attr-defined]
    city.citizens.verify_real_name(founder)
    documents = {
        m.code: "document:" + city.uploads.put(founder, PDF + m.code.encode()).digest
        for m in city.catalogue.item("AMR-001").materials
        if not m.satisfied_by_licence
    }
    form = {
        "enterprise_name": f"常德市武陵区压测{i}餐饮有限公司",
        "enterprise_type": "有限责任公司",
        "registered_capital": "100万元",
        "business_scope": "餐饮服务",
        "address": f"常德市武陵区人民路{i + 1}号",
    }
    submitted = city.applications.submit(founder, "AMR-001", form, documents)
    application_id = submitted.application.id
    city.applications.accept(OFFICER, application_id)
    city.applications.approve(OFFICER, application_id)
    settle(city)
    application = city.applications.get(application_id)
    if len(application.licences) != 1:
        raise RuntimeError(f"AMR-001 issued {len(application.licences)} licences, not 1")
    return Holder(founder, application.licences[0])


class Supply:
    """Fresh presentations for each wrk run, written to a file wrk's threads share out."""

    def __init__(self, city: City, holders: list[Holder], path: Path) -> None:
        self.city, self.holders, self.path = city, holders, path
        self.made = 0
        self.seconds = 0.0  # spent making them

    def write(self, count: int, run_s: float) -> Path:
        started = time.monotonic()
        present = self.city.licences.present
        lines = []
        for k in range(count):
            holder = self.holders[(self.made + k) % len(self.holders)]
            lines.append(present(holder.principal, holder.licence, FIELDS, LIFETIME).payload)
        self.path.write_text("".join(f"{line}\n" for line in lines))
        took = time.monotonic() - started
        self.made, self.seconds = self.made + count, self.seconds + took
        if took + run_s + 10 > LIFETIME:
            raise RuntimeError(
                f"{count} presentations took {took:.0f} s: some would expire during the run"
            )
        return self.path


def open_loop_slots(rate: float, connections: int, seconds: int) -> int:
    """The slots graphql.lua schedules over all its threads (one connection each)."""
    window = seconds * 1000 - START_MS - DRAIN_MS
    interval = 1000 * connections / rate
    return sum(math.ceil(window / interval - j / connections) for j in range(connections))


# -- the runs -------------------------------------------------------------------------------


class SuppliedBench(Bench):
    """http's runs and checks, with a fresh file of payloads (each sent once) before each
    run of the supplied query: enough for the run, judged by the rate seen so far."""

    supplied_query: str  # the request whose payloads are supplied
    supplied_what: str  # what they are, for the notes
    guess_rps: float  # the warm-up's rate, before anything is measured

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.warmup_rps: float | None = None

    def supply(self, count: int, seconds: int) -> Path:
        """A file of `count` fresh payloads for a run of `seconds`."""
        raise NotImplementedError

    def wrk(self, query: str, kind: str, attempt: Callable[..., Run], **options: Any) -> Run:
        if query == self.supplied_query:
            attempt = self.supplied(kind, attempt)
        return super().wrk(query, kind, attempt, **options)

    def supplied(self, kind: str, attempt: Callable[..., Run]) -> Callable[..., Run]:
        def run(url: str, query: str, **options: Any) -> Run:
            count = self.needed(kind, options)
            note(f"[{self.loop}] {query} {kind}: making {count:,} {self.supplied_what}")
            payloads = self.supply(count, options["seconds"])
            done = attempt(url, query, payloads=payloads, **options)
            if done.exhausted:
                raise RuntimeError(
                    f"{query} {kind}: {done.exhausted} requests found no payload left "
                    f"({count:,} made for {done.responses:,} answers)"
                )
            if kind == "warmup":
                self.warmup_rps = done.rps
            return done

        return run

    def needed(self, kind: str, options: dict[str, Any]) -> int:
        """Payloads enough for the run: at least one per request it can send."""
        seconds, connections = int(options["seconds"]), int(options["connections"])
        if "rate" in options:  # every slot, and the margin of a thread's odd one out
            slots = open_loop_slots(options["rate"], connections, seconds)
            return math.ceil(slots * 1.02) + 2 * connections
        figure = self.report.figures.get(f"{self.loop}.{self.supplied_query}_rps")
        rate = figure.value if figure else self.warmup_rps
        if kind == "warmup" or rate is None:
            rate = self.guess_rps
        return math.ceil(rate * SUPPLY_MARGIN * seconds) + 2 * connections + 100


class VerifyBench(SuppliedBench):
    """http's runs and checks, with a fresh supply of presentations before each verify run."""

    supplied_query, supplied_what, guess_rps = "verify", "presentations", WARMUP_GUESS_RPS

    def __init__(
        self,
        report: Report,
        loop: str,
        urls: dict[str, str],
        tokens: Path,
        attempts: int,
        supply: Supply,
    ) -> None:
        super().__init__(report, loop, urls, tokens, attempts)
        self.presentations = supply

    def supply(self, count: int, seconds: int) -> Path:
        return self.presentations.write(count, seconds)

    def all(self, size: Sizes) -> None:  # type: ignore[override]
        """hello's runs, then verify's: throughput, half of it, one connection."""
        self.judge(self.against_hello("verify", size))

    def judge(self, runs: dict[str, dict[str, Run]]) -> None:
        self.check_throughput(runs, "verify", THROUGHPUT_TARGET)
        self.check_half(runs, "verify", HALF_P99_TARGET_MS)


def bench_loop(report: Report, loop: str, keys: Path, tmp: Path, size: Sizes) -> None:
    """Fresh store, licences and servers for this loop."""
    (tmp / "data").mkdir(parents=True)
    with ExitStack() as stack:
        env = city_environment(stack, report.sizes["store"], keys, tmp, "licence_http")
        city = build(Settings.from_env(env))
        stack.callback(city.close)
        started = time.monotonic()
        holders = [establish(city, i) for i in range(size.holders)]
        secret = city.clients.add(CLIENT, Role.VENUE, "压测酒店", None)
        settle(city)
        took = time.monotonic() - started
        note(f"[{loop}] {size.holders} businesses established in {took:.1f} s")
        supply = Supply(city, holders, tmp / "presentations.txt")
        with ExitStack() as servers:
            hello, url = serve_both(servers, loop, env, tmp)
            (tmp / "tokens.txt").write_text(log_in(url, CLIENT, secret) + "\n")
            urls = {"hello": hello, "verify": url}
            bench = VerifyBench(report, loop, urls, tmp / "tokens.txt", size.attempts, supply)
            bench.all(size)
            note(f"[{loop}] stopping the servers")
        # the servers stopped: nothing is in flight
        recorded = events_recorded(city, LicenceUse.Recorded)
    per_use = supply.seconds / supply.made * 1000
    answers = bench.answers["verify"]
    report.checks[f"{loop}.verify_bad_answers"] = answers.bad
    report.sizes.setdefault("presentations", {})[loop] = {
        "made": supply.made,
        "ms_each": round(per_use, 2),
        "valid_answers": answers.good,
        "uses_recorded": recorded,
    }
    recorded_ok = answers.good <= recorded <= answers.good + answers.unanswered
    report.checks.setdefault("each_valid_answer_recorded_one_use", {})[loop] = recorded_ok


def run(quick: bool) -> Report:
    require_wrk()
    report = Report("licence_http", quick)
    size = sizes(quick)
    report.sizes.update(commit=git_commit(), holders=size.holders, fields=FIELDS)
    http_setup(report, size)
    run_loops(report, size, bench_loop, "each_valid_answer_recorded_one_use")
    return report
