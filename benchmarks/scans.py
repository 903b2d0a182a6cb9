"""scans: partners scanning citizens' city codes, online over HTTP, in offline batches, and on
a long file.

The scanning issue's three targets, each measured as it states it:

1. **Online scans over HTTP**, PostgreSQL, 2 workers: `scanCityCode` by a TRANSIT_GATE
   client at least 0.60 of a strawberry hello-world's req/s at 32 connections, served the
   same way in the same run; p99 at most 50 ms under a steady offered load of half that
   throughput (open loop); p99 at most 20 ms at one connection. For `--loop uvloop` and
   then `--loop asyncio`, with fresh servers and a fresh store (benchmarks/http.py's
   servers, wrk runs and checks, as licence_http uses them):
   - before the servers start, a City built in this process from the servers' own
     settings (`build(Settings.from_env(env))`, with `MYCITY_CITY_CODE_SECONDS=3600` so
     codes made before the runs outlive them) opens `codes` citizens' files, issues each
     one code (their first: it opens their CodeHolder) and adds the gate client
     (`clients.add("gate-bench", Role.TRANSIT_GATE, ...)`);
   - once the servers run, the client logs in over GraphQL (`logInWithClientCredentials`)
     and one scan is checked by hand (`valid`, `outcome` VALID, `allowed` true, nothing
     else told);
   - each request is `scanCityCode(input: {payload, purpose: TRANSIT, place})` with the
     client's token, of one of the codes round robin (a non-payment online scan takes a
     fresh id each time, so a code may be scanned again; `BENCH_PAYLOADS` in graphql.lua).
     An answer without `"valid": true` is counted as bad, as any error is;
   - runs as for licence_http: hello first (the baseline), then scan: throughput (closed
     loop, 32 connections, after a warm-up), latency at half that throughput (open loop,
     latencies from each slot), latency at one connection;
   - at the end the Scan.Recorded events in the store are counted: one per valid answer,
     and at most one more per connection of each run (in flight when wrk stopped).
2. **Offline batches**: at least 5,000 scans/s recorded on PostgreSQL (SQLite for
   information). `City.scans.upload_offline` in process, batches of `MAX_BATCH` items (the
   most an upload may hold: 1,000 when the issue was written, 500 since 6280969), each item
   a distinct code of a distinct citizen (`offline_citizens` of them, each opened and given
   a first code beforehand, untimed, with 8 threads). The codes are issued (untimed) by the
   City that opened the files; the uploads are timed in a second City built afresh on the
   same store, as a server process that has not met these citizens: pass 1 (`cold`) is each
   citizen's first scan in that process (their CodeHolder and data key are loaded from the
   store), pass 2 (`warm`) scans each again with a new code (both cached). Each upload's
   wall time, code checks included; every item must come back VALID, new and `allowed`,
   and the store must hold one Scan.Recorded per item. The target is judged on the cold
   pass, the common case where a city has more riders than a process caches (10,000
   aggregates); the warm pass is the best case. No runner runs during the uploads. Then
   the server's rate (`two workers`): a third code of each citizen, uploaded by two fresh
   processes at once (spawned, each building its own City on the store, as the server's
   two workers do), each the same batches of its own half of the citizens; scans/s = all
   items / the time from the first upload's start to the last one's end (the processes
   start together at a barrier, after building their Cities). This is the figure the
   target is judged on: the 2 workers of the online target; one process's cold pass is
   shown beside it.
3. **A long file**: recording a scan on a citizen whose history already holds
   `file_scans` (10,000) scans costs no more than on a new one (ratio of medians at most
   1.1, allowing noise). The long history is made with offline batches of MAX_BATCH
   distinct codes; then `repetitions` times, interleaved (the order swapped every other time), a
   fresh code is issued (untimed) for the long citizen and for a new citizen who has no
   scan yet (one per repetition, so the new file stays new), and each `City.scans.scan`
   (TRANSIT, by the gate) is timed. Medians and p99, on SQLite and PostgreSQL.

Latencies of 3 are figures in µs (the JSON line keeps one decimal), checks and notes in ms.
Full run about 10 minutes (17 on the slow machine of run 5); `--quick` (small sizes, short
runs) about 2 minutes.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from benchmarks.audit import percentile
from benchmarks.citizens import resident_id
from benchmarks.common import (
    Report,
    median,
    note,
    postgres_required,
    postgres_unreachable,
)
from benchmarks.http import (
    LOOPS,
    Bench,
    city_environment,
    events_recorded,
    git_commit,
    http_setup,
    log_in,
    serve_both,
    settle,
)
from benchmarks.loadgen import Run, require_wrk
from benchmarks.servers import post_graphql
from mycity.bootstrap import City, build
from mycity.domain.scan import Scan
from mycity.identity.keys import KeyStore
from mycity.identity.principal import Principal, Role
from mycity.settings import Settings
from mycity.usecases.scans import MAX_BATCH, OfflineScan, Outcome
from mycity.verifier.city_code import Purpose

THROUGHPUT_TARGET = 0.60  # scan's req/s over hello's, at least
HALF_P99_TARGET_MS = 50  # at half scan's throughput, at most
ONE_CONNECTION_P99_TARGET_MS = 20  # at most
OFFLINE_TARGET = 5_000  # scans recorded per second, PostgreSQL, at least
LONG_FILE_TARGET = 1.1  # a scan on the long file over one on a new file (medians), at most
CODE_SECONDS = 3600  # the longest a code may live: codes made before the runs outlive them
GATE = "gate-bench"
GATE_NAME = "压测闸机"
PLACE = "武陵阁站 3号闸机"  # graphql.lua's, for the online scans
BUS = "12路公交 沪A-12345"  # the offline device's place
PARALLEL = 8  # threads opening files: they wait on the store more than on the CPU
WARMUP_SCANS = 20  # untimed scans of each kind before the long-file timings
WORKERS = 2  # uploading processes at once: the online target's server workers
SCAN = """mutation($p: String!, $place: String!) {
  scanCityCode(input: {payload: $p, purpose: TRANSIT, place: $place}) {
    valid outcome allowed colour card cardNumber scanId userErrors { code }
  }
}"""


@dataclass(frozen=True)
class Sizes:
    codes: int  # citizens, one code each, scanned round robin over HTTP
    warmup_s: int
    throughput_s: int
    half_s: int  # open loop, scan
    half_hello_s: int  # open loop, hello (not a target: how low the floor is)
    one_connection_s: int
    attempts: int  # of a run whose connections one worker holds most of
    offline_citizens: int  # each scanned once per pass, MAX_BATCH to an upload
    passes: int  # over the citizens: the first cold, the others warm (then the workers')
    file_scans: int  # already in the long file's history
    repetitions: int  # timed scans of each kind, on the long file and on new files


def sizes(quick: bool) -> Sizes:
    if quick:
        return Sizes(20, 1, 2, 3, 2, 1, 1, 2_000, 2, 1_000, 100)
    return Sizes(500, 2, 10, 20, 8, 8, 2, 10_000, 2, 10_000, 1_000)


# -- citizens and codes, in the benchmark's own City ----------------------------------------


def environment(stack: ExitStack, store: str, keys: Path, tmp: Path, name: str) -> dict[str, str]:
    """http's settings for a fresh store (schema `bench_<pid>_<name>`, or a SQLite file in
    `tmp`), with codes that live an hour."""
    (tmp / "data").mkdir(parents=True)
    env = city_environment(stack, store, keys, tmp, name)
    return env | {"MYCITY_CITY_CODE_SECONDS": str(CODE_SECONDS)}


def add_gate(city: City) -> tuple[Principal, str]:
    """The transit gate client: its principal (as its token gives it) and its secret."""
    secret = city.clients.add(GATE, Role.TRANSIT_GATE, GATE_NAME)
    client = city.clients.get(GATE)
    assert client is not None
    return client.principal(), secret


def open_citizens(city: City, people: range) -> list[Principal]:
    """Open each one's file and issue their first code (which opens their CodeHolder), with
    PARALLEL threads, so that the group commit saves several at once."""

    def one(i: int) -> Principal:
        name = f"扫码{i}"
        citizen, _ = city.citizens.open_file(resident_id(i), name, f"137{i:08d}")
        principal = Principal.of_citizen(citizen.id, name)
        city.city_codes.issue(principal)
        return principal

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(one, people))


def offline_items(city: City, people: Sequence[Principal]) -> list[OfflineScan]:
    """A fresh code of each, as a device reads it at once."""
    items = []
    for person in people:
        payload = city.city_codes.issue(person).payload
        scanned_at = datetime.fromtimestamp(city.clock.now(), UTC)
        items.append(OfflineScan(payload, Purpose.TRANSIT, BUS, scanned_at))
    return items


def upload(city: City, gate: Principal, items: Sequence[OfflineScan]) -> float:
    """One upload, every item of which must be recorded anew and allowed: its seconds."""
    started = time.perf_counter()
    results = city.scans.upload_offline(gate, items)
    took = time.perf_counter() - started
    wrong = [
        r
        for r in results
        if r.answer is None or not r.answer.ok or r.answer.duplicate or not r.answer.told.allowed
    ]
    if wrong or len(results) != len(items):
        raise RuntimeError(f"{len(wrong)} of {len(items)} offline scans not recorded: {wrong[0]}")
    return took


# -- 1. online over HTTP --------------------------------------------------------------------


class ScanBench(Bench):
    """http's runs and checks; every scan request carries one of the codes, round robin."""

    def __init__(
        self,
        report: Report,
        loop: str,
        urls: dict[str, str],
        tokens: Path,
        attempts: int,
        codes: Path,
    ) -> None:
        super().__init__(report, loop, urls, tokens, attempts)
        self.codes = codes

    def wrk(self, query: str, kind: str, attempt: Callable[..., Run], **options: Any) -> Run:
        if query == "scan":
            attempt = partial(attempt, payloads=self.codes)
        return super().wrk(query, kind, attempt, **options)

    def all(self, size: Sizes) -> None:  # type: ignore[override]
        """hello's runs, then scan's: throughput, half of it, one connection."""
        runs = self.against_hello("scan", size)
        self.check_throughput(runs, "scan", THROUGHPUT_TARGET)
        self.check_half(runs, "scan", HALF_P99_TARGET_MS)
        self.check_one_connection(runs, "scan", ONE_CONNECTION_P99_TARGET_MS)
        checks, name = self.report.checks, f"{self.loop}.scan"

        def verdict(target: str) -> str:
            return "MET" if checks[f"{name}_{target}"] else "NOT MET"

        ratio = self.report.ratio(f"{name}_rps")
        self.report.note(
            f"[{self.loop}] scan {runs['scan']['throughput'].rps:,.0f} req/s = {ratio} of hello "
            f"({runs['hello']['throughput'].rps:,.0f}), target >= {THROUGHPUT_TARGET}: "
            f"{verdict(f'rps_ratio_ge_{THROUGHPUT_TARGET}')}; p99 at half "
            f"{runs['scan']['half'].p99_ms:.1f} ms, target <= {HALF_P99_TARGET_MS}: "
            f"{verdict(f'p99_ms_at_half_le_{HALF_P99_TARGET_MS}')}; p99 at 1 connection "
            f"{runs['scan']['single'].p99_ms:.1f} ms, target <= {ONE_CONNECTION_P99_TARGET_MS}: "
            f"{verdict(f'p99_ms_1conn_le_{ONE_CONNECTION_P99_TARGET_MS}')}"
        )


def scan_by_hand(url: str, token: str, payload: str) -> None:
    """One scan over HTTP, its whole answer checked: valid, and a gate told only `allowed`."""
    answer = post_graphql(url, SCAN, {"p": payload, "place": PLACE}, token)
    got = (answer.get("data") or {}).get("scanCityCode") or {}
    expected = {"valid": True, "outcome": "VALID", "allowed": True, "colour": None}
    expected |= {"card": None, "cardNumber": None, "userErrors": []}
    if answer.get("errors") or {k: got.get(k) for k in expected} != expected or not got["scanId"]:
        raise RuntimeError(f"scanCityCode: {answer}")


def bench_http_loop(report: Report, loop: str, keys: Path, tmp: Path, size: Sizes) -> None:
    """Fresh store, citizens, codes and servers for this loop."""
    with ExitStack() as stack:
        env = environment(stack, report.sizes["store"], keys, tmp, "scans_http")
        city = build(Settings.from_env(env))
        stack.callback(city.close)
        started = time.monotonic()
        people = open_citizens(city, range(size.codes))
        codes = [city.city_codes.issue(p).payload for p in people]
        _, secret = add_gate(city)
        settle(city)
        note(f"[{loop}] {size.codes} citizens and codes in {time.monotonic() - started:.1f} s")
        (tmp / "codes.txt").write_text("".join(f"{c}\n" for c in codes))
        codes_made = time.monotonic()
        with ExitStack() as servers:
            hello, url = serve_both(servers, loop, env, tmp)
            token = log_in(url, GATE, secret)
            (tmp / "tokens.txt").write_text(token + "\n")
            scan_by_hand(url, token, codes[0])
            urls = {"hello": hello, "scan": url}
            bench = ScanBench(
                report, loop, urls, tmp / "tokens.txt", size.attempts, tmp / "codes.txt"
            )
            bench.all(size)
            note(f"[{loop}] stopping the servers")
        recorded = events_recorded(city, Scan.Recorded)  # the servers stopped: none in flight
        if time.monotonic() - codes_made > CODE_SECONDS - 60:
            report.note(f"[{loop}] the run outlasted the codes: expect not_valid answers")
    answers = bench.answers["scan"]
    valid = answers.good + 1  # and the one by hand
    report.checks[f"{loop}.scan_bad_answers"] = answers.bad
    report.sizes.setdefault("online", {})[loop] = {
        "codes": len(codes),
        "valid_answers": valid,
        "scans_recorded": recorded,
    }
    recorded_ok = valid <= recorded <= valid + answers.unanswered
    report.checks.setdefault("each_valid_answer_recorded_one_scan", {})[loop] = recorded_ok


def bench_http(report: Report, tmp: Path, size: Sizes) -> None:
    require_wrk()
    http_setup(report, size)
    for loop in LOOPS:
        bench_http_loop(report, loop, tmp / "keys", tmp / f"http-{loop}", size)


# -- 2. offline batches ---------------------------------------------------------------------


def bench_offline(report: Report, store: str, tmp: Path, size: Sizes) -> None:
    n = size.offline_citizens
    with ExitStack() as stack:
        env = environment(stack, store, tmp / "keys", tmp / f"offline-{store}", "scans_offline")
        setup = build(Settings.from_env(env))
        try:
            started = time.monotonic()
            gate, _ = add_gate(setup)
            people = open_citizens(setup, range(n))
            opened = time.monotonic()
            *passes, for_workers = [offline_items(setup, people) for _ in range(size.passes + 1)]
            took = time.monotonic() - opened
            note(
                f"[{store}] {n:,} citizens opened in {opened - started:.1f} s, "
                f"{n * (size.passes + 1):,} codes issued in {took:.1f} s"
            )
        finally:
            setup.close()
        city = build(Settings.from_env(env))  # a process that has met none of them
        stack.callback(city.close)
        rates: dict[str, list[float]] = {}
        seconds: dict[str, float] = {}
        for k, items in enumerate(passes):
            kind = "cold" if k == 0 else "warm"
            for start in range(0, n, MAX_BATCH):
                took = upload(city, gate, items[start : start + MAX_BATCH])
                batch = min(MAX_BATCH, n - start)
                rates.setdefault(kind, []).append(batch / took)
                seconds[kind] = seconds.get(kind, 0.0) + took
        seconds["two_workers"] = upload_in_workers(env, gate, for_workers)
        recorded = events_recorded(city, Scan.Recorded)
    report.checks[f"{store}.offline_each_item_recorded_once"] = recorded == n * (size.passes + 1)
    warm_items = n * (size.passes - 1)
    totals = {
        "two_workers": n / seconds["two_workers"],
        "cold": n / seconds["cold"],
        "warm": warm_items / seconds["warm"],
    }
    for kind, rate in totals.items():
        report.add(f"{store}.offline_{kind}", rate, "scans/s", f"{store}.offline_cold")
        met = rate >= OFFLINE_TARGET
        if store == "postgres" and kind == "two_workers":
            report.checks[f"postgres.offline_two_workers_ge_{OFFLINE_TARGET}"] = met
        report.sizes.setdefault("offline", {}).setdefault(store, {})[kind] = {
            "scans": warm_items if kind == "warm" else n,
            "batches_scans_per_s": [round(r) for r in rates.get(kind, [])],
            "median_batch_scans_per_s": round(median(rates[kind])) if kind in rates else None,
        }
        judged = store == "postgres" and kind == "two_workers"
        verdict = ("MET" if met else "NOT MET") if judged else "for information"
        report.note(
            f"[{store}] offline uploads, {OFFLINE_KINDS[kind]}: {rate:,.0f} scans/s recorded "
            f"= {rate / OFFLINE_TARGET:.2f} of the target {OFFLINE_TARGET:,}/s: {verdict}"
        )


OFFLINE_KINDS = {
    "two_workers": f"{WORKERS} processes at once, each its first",
    "cold": "one process, first",
    "warm": "one process, again",
}


def upload_in_workers(env: dict[str, str], gate: Principal, items: list[OfflineScan]) -> float:
    """WORKERS fresh processes upload their share of `items` at once: the seconds from the
    first one's start to the last one's end."""
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(WORKERS)
    done = spawn.Queue()
    share = -(-len(items) // WORKERS)
    workers = [
        spawn.Process(
            target=upload_worker,
            args=(env, gate, items[i * share : (i + 1) * share], barrier, done),
            name=f"uploader-{i}",
        )
        for i in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    spans = [done.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    if failed := [error for *_, error in spans if error]:
        raise RuntimeError(f"an uploading process failed: {failed[0]}")
    return max(end for _, end, _ in spans) - min(start for start, _, _ in spans)


def upload_worker(
    env: dict[str, str],
    gate: Principal,
    items: list[OfflineScan],
    barrier: Barrier,
    done: Any,
) -> None:
    """One uploading process: its own City, ready before the barrier, then its batches; a
    failure is reported (and breaks the barrier), never left for the parent to wait on."""
    try:
        city = build(Settings.from_env(env))
        try:
            barrier.wait()
            start = time.time()
            for i in range(0, len(items), MAX_BATCH):
                upload(city, gate, items[i : i + MAX_BATCH])
            done.put((start, time.time(), None))
        finally:
            city.close()
    except BaseException as error:
        barrier.abort()
        done.put((0.0, 0.0, repr(error)))


# -- 3. a long file -------------------------------------------------------------------------


def bench_long_file(report: Report, store: str, tmp: Path, size: Sizes) -> None:
    reps = size.repetitions
    with ExitStack() as stack:
        env = environment(stack, store, tmp / "keys", tmp / f"long-{store}", "scans_long")
        city = build(Settings.from_env(env))
        stack.callback(city.close)
        gate, _ = add_gate(city)
        started = time.monotonic()
        [long] = open_citizens(city, range(1))
        for start in range(0, size.file_scans, MAX_BATCH):
            count = min(MAX_BATCH, size.file_scans - start)
            upload(city, gate, offline_items(city, [long] * count))
        history = events_recorded(city, Scan.Recorded)
        new = open_citizens(city, range(1, 1 + WARMUP_SCANS + reps))
        note(
            f"[{store}] a history of {history:,} scans and {len(new):,} new citizens in "
            f"{time.monotonic() - started:.1f} s"
        )
        times: dict[str, list[float]] = {"long": [], "new": []}

        def scan(person: Principal) -> float:
            payload = city.city_codes.issue(person).payload
            began = time.perf_counter()
            answer = city.scans.scan(gate, payload, Purpose.TRANSIT, PLACE)
            took = (time.perf_counter() - began) * 1000
            if answer.outcome is not Outcome.VALID or not answer.told.allowed:
                raise RuntimeError(f"scan: {answer}")
            return took

        for i, fresh in enumerate(new):
            pair = [("long", long), ("new", fresh)]
            for kind, person in pair if i % 2 == 0 else pair[::-1]:
                took = scan(person)
                if i >= WARMUP_SCANS:
                    times[kind].append(took)
        recorded = events_recorded(city, Scan.Recorded)
    report.checks[f"{store}.long_file_scans_recorded"] = recorded == history + 2 * len(new)
    for kind in ("new", "long"):
        for stat, q in (("p50", 0.5), ("p99", 0.99)):
            report.add(
                f"{store}.scan_{kind}_file_{stat}",
                percentile(times[kind], q) * 1000,
                "µs",
                f"{store}.scan_new_file_{stat}",
            )
    ratio = report.ratio(f"{store}.scan_long_file_p50") or 0.0
    p99_ratio = report.ratio(f"{store}.scan_long_file_p99") or 0.0
    met = ratio <= LONG_FILE_TARGET and history >= size.file_scans
    report.checks[f"{store}.long_file_ratio"] = ratio
    report.checks[f"{store}.long_file_p99_ratio"] = p99_ratio
    report.checks[f"{store}.long_file_ratio_le_{LONG_FILE_TARGET}"] = met
    report.sizes.setdefault("long_file", {})[store] = {
        "history_scans": history,
        "repetitions": reps,
        "warmup": WARMUP_SCANS,
    }
    line = {
        kind: f"p50 {percentile(t, 0.5):.2f} ms, p99 {percentile(t, 0.99):.2f} ms"
        for kind, t in times.items()
    }
    report.note(
        f"[{store}] a scan on a file of {history:,} scans: {line['long']}; on a new file: "
        f"{line['new']}; ratio of medians {ratio} (p99 {p99_ratio}), target <= "
        f"{LONG_FILE_TARGET}: {'MET' if met else 'NOT MET'}"
    )


# -- the run --------------------------------------------------------------------------------


def run(quick: bool) -> Report:
    report = Report("scans", quick)
    size = sizes(quick)
    report.sizes.update(
        commit=git_commit(),
        codes=size.codes,
        offline_citizens=size.offline_citizens,
        offline_passes=size.passes,
        batch=MAX_BATCH,
        file_scans=size.file_scans,
        repetitions=size.repetitions,
    )
    stores = ["sqlite", "postgres"]
    if reason := postgres_unreachable():
        if postgres_required():
            raise SystemExit(f"PostgreSQL is unreachable and CI=true: {reason}")
        report.note(f"PostgreSQL is unreachable ({reason}): in-process parts on SQLite only")
        stores.remove("postgres")
    with tempfile.TemporaryDirectory(prefix="mycity-bench-") as tmp_name:
        tmp = Path(tmp_name)
        KeyStore(tmp / "keys", generate_missing=True).init()
        bench_http(report, tmp, size)
        for store in stores:
            bench_offline(report, store, tmp, size)
        for store in stores:
            bench_long_file(report, store, tmp, size)
    targets = [
        v for k, v in report.checks.items() if isinstance(v, bool) and ("_ge_" in k or "_le_" in k)
    ]
    bad = report.checks.get("bad_answers_by_run", {})
    right = [v for k, v in report.checks.items() if k.endswith("_recorded_once")]
    right.append(all(report.checks["each_valid_answer_recorded_one_scan"].values()))
    right += [v for k, v in report.checks.items() if k.endswith("long_file_scans_recorded")]
    report.checks["answers_correct"] = not bad and all(right)
    report.checks["all_targets_met"] = all(targets)
    report.note(
        f"Targets met: {sum(targets)} of {len(targets)}"
        + (f"; bad answers in {len(bad)} runs" if bad else "")
    )
    return report
