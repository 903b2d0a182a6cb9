"""registration: citizens registered through the service, and read models rebuilt, per store.

For SQLite and PostgreSQL, in one run:

1. `register`: registrations/s through `CityFiles.register_citizen` (validation, two
   look-ups, one transaction saving Citizen.Registered and PhoneClaim.Claimed), against
   `raw_append`: the same two events built from the same aggregates and inserted with
   `recorder.insert_events`, one registration per call, into a fresh store.
   `raw_append_batched` is the same with 1000 registrations per call: it fills the store
   (then, on PostgreSQL, the log is ANALYZEd).
2. `rebuild_<read model>`: events/s of `ReadModels.rebuild` as the city runs it (in shards,
   one process each, from a log of `SHARDED_FROM` events: the full run's), against
   `rebuild_<read model>_one_process`: the same rebuild in one process, alternating; that
   one against `read_<read model>`: `select_notifications` (pages of 1000, the read
   model's topics, their people's keys prefetched) + `to_domain_event` of the same events.
   `read_log` is that raw read over the whole log, every topic.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from eventsourcing.persistence import StoredEvent

from benchmarks.common import (
    Report,
    median,
    note,
    per_second,
    postgres_required,
    postgres_schema,
    postgres_unreachable,
)
from mycity.bootstrap import City, build
from mycity.domain.citizen import Citizen
from mycity.domain.identifiers import resident_id_check_character
from mycity.domain.phone import PhoneClaim
from mycity.identity.keys import KeyStore
from mycity.settings import ReadModelSettings, Settings

READ_MODELS = ("citizen_profile", "directory")
TARGET_POSTGRES_REBUILD = 20_000  # events/s, the project's target
ROUNDS = 5  # registration rounds, service and raw alternating; the median round counts
REPEATS = 3  # rebuilds of each read model, each after a raw read of the same events
WARMUP = 10  # registrations on each store before timing (connections, prepared statements)
PAGE = 1000  # notifications per select, as the read models' catch-up reads them
BATCH = 1000  # registrations per insert_events call when filling the store


@dataclass(frozen=True)
class Sizes:
    registrations: int  # timed, through the service and raw each
    log_events: int  # in the store when the read models are rebuilt


def sizes(store: str, quick: bool) -> Sizes:
    if quick:
        return Sizes(registrations=200, log_events=20_000)
    return Sizes(registrations=5_000 if store == "sqlite" else 2_000, log_events=200_000)


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明"


def person(i: int) -> tuple[str, str, str]:
    """The i-th citizen: a valid, distinct GB 11643 ID number, a name, a distinct phone."""
    born = date(1950, 1, 1) + timedelta(days=i // 1000)
    first17 = f"430702{born:%Y%m%d}{i % 1000:03d}"
    name = SURNAMES[i % 15] + GIVEN[i // 15 % 15] + GIVEN[i // 225 % 15]
    return first17 + resident_id_check_character(first17), name, f"13{i:09d}"


def open_city(tmp: Path, database_url: str) -> City:
    settings = Settings(
        data_dir=tmp,
        database_url=database_url,
        keys_dir=tmp / "keys",
        read_models=ReadModelSettings(inline=False),
    )
    return build(settings)


def register(city: City, people: range) -> int:
    for i in people:
        city.citizens.open_file(*person(i))
    return len(people)


def stored_events(city: City, i: int) -> list[StoredEvent]:
    """What one registration saves, built the way the service builds it, ready to insert."""
    id_number, name, phone = person(i)
    ids = city.ids
    citizen = Citizen.register(
        id=ids.citizen(id_number), id_number=id_number, name=name, phone=phone
    )
    claim = PhoneClaim(id=ids.phone(phone), citizen_id=citizen.id)  # type: ignore[call-arg]
    events = [*citizen.collect_events(), *claim.collect_events()]
    return [city.files.mapper.to_stored_event(e) for e in events]


def append(city: City, people: range, per_call: int) -> int:
    """Raw eventsourcing: insert `per_call` registrations' events per transaction."""
    for start in range(people.start, people.stop, per_call):
        batch = range(start, min(start + per_call, people.stop))
        city.files.recorder.insert_events([e for i in batch for e in stored_events(city, i)])
    return len(people)


def read(city: City, topics: Sequence[str] = ()) -> int:
    """Raw read of the log (or of these topics): select pages and decode; the events read."""
    recorder, mapper = city.files.recorder, city.files.mapper
    position, count = 0, 0
    while True:
        page = recorder.select_notifications(
            position, limit=PAGE, topics=topics, inclusive_of_start=False
        )
        mapper.prefetch(page)  # the page's people's keys in one query, as a rebuild does
        for notification in page:
            mapper.to_domain_event(notification)
        count += len(page)
        if len(page) < PAGE:
            return count
        position = page[-1].id


def analyze(city: City) -> None:
    """Give the planner statistics of the filled log, as autovacuum would in production (this
    machine's PostgreSQL runs with autovacuum off). Without them the catch-up's select
    (range, topics, ORDER BY, LIMIT) may get a bitmap scan + sort per page: see RESULTS.md."""
    table = city.db.table(city.files.recorder.events_table_name)  # type: ignore[attr-defined]
    with city.db.transaction() as cur:
        cur.execute(f"ANALYZE {table}")


def bench_registrations(report: Report, store: str, service: City, raw: City, n: int) -> int:
    """Service vs raw append, in alternating rounds; returns the next unused citizen index."""
    note(f"[{store}] warm-up, then {n} registrations, service vs raw append")
    register(service, range(WARMUP))
    append(raw, range(WARMUP), per_call=1)
    per_round = n // ROUNDS
    service_rates: list[float] = []
    raw_rates: list[float] = []
    for r in range(ROUNDS):
        people = range(WARMUP + r * per_round, WARMUP + (r + 1) * per_round)
        timed = [
            (service_rates, partial(register, service, people)),
            (raw_rates, partial(append, raw, people, per_call=1)),
        ]
        for rates, action in timed if r % 2 == 0 else timed[::-1]:
            rates.append(per_second(action))
    report.add(f"{store}.register", median(service_rates), "registrations/s", f"{store}.raw_append")
    report.add(f"{store}.raw_append", median(raw_rates), "registrations/s")
    report.sizes[store] = {"registrations": ROUNDS * per_round}
    return WARMUP + ROUNDS * per_round


def fill(report: Report, store: str, city: City, first: int, log_events: int) -> None:
    """Raw append, batched, of new citizens from index `first` until the log holds enough."""
    head = city.files.recorder.max_notification_id() or 0
    people = range(first, first + max(0, log_events - head + 1) // 2)
    note(f"[{store}] filling the log to {head + 2 * len(people)} events, {BATCH} per call")
    batched = per_second(partial(append, city, people, per_call=BATCH))
    report.add(f"{store}.raw_append_batched", batched, "registrations/s", f"{store}.raw_append")
    if city.db.dialect == "postgres":
        analyze(city)


def bench_rebuilds(report: Report, store: str, city: City) -> None:
    """Each read model's rebuild vs a raw read of the same events, and vs the same rebuild
    in one process (no shards), alternating, REPEATS times."""
    log_rates: list[float] = []
    read_rates: dict[str, list[float]] = {name: [] for name in READ_MODELS}
    rebuild_rates: dict[str, list[float]] = {name: [] for name in READ_MODELS}
    one_rates: dict[str, list[float]] = {name: [] for name in READ_MODELS}
    shards = city.read_models.shards
    report.sizes[store]["log_events"] = read(city)  # also warms the caches
    report.sizes[store]["rebuild_workers"] = city.settings.read_models.rebuild_workers
    report.sizes[store]["sharded"] = city.files.head() >= city.read_models.sharded_from
    for repeat in range(REPEATS):
        note(f"[{store}] rebuilds {repeat + 1}/{REPEATS}, each after a raw read")
        log_rates.append(per_second(partial(read, city)))
        for name in READ_MODELS:
            topics = city.read_models.classes[name].topics
            read_rates[name].append(per_second(partial(read, city, topics)))
            for rates, given in ((rebuild_rates, shards), (one_rates, None)):
                city.read_models.shards = given
                result = city.read_models.rebuild(name)
                rates[name].append(result["events"] / result["seconds"])
            city.read_models.shards = shards
            report.sizes[store][f"{name}_events"] = result["events"]
    report.add(f"{store}.read_log", median(log_rates), "events/s")
    for name in READ_MODELS:
        read_name = f"{store}.read_{name}"
        one_name = f"{store}.rebuild_{name}_one_process"
        report.add(read_name, median(read_rates[name]), "events/s")
        report.add(one_name, median(one_rates[name]), "events/s", read_name)
        report.add(f"{store}.rebuild_{name}", median(rebuild_rates[name]), "events/s", one_name)


def run(quick: bool) -> Report:
    report = Report("registration", quick)
    stores = ["sqlite", "postgres"]
    if reason := postgres_unreachable():
        if postgres_required():
            raise SystemExit(f"PostgreSQL is unreachable and CI=true: {reason}")
        report.note(f"PostgreSQL is unreachable ({reason}): reporting SQLite only")
        report.checks["postgres.rebuild_target_met"] = None  # not measured
        stores.remove("postgres")
    with tempfile.TemporaryDirectory(prefix="mycity-bench-") as tmp_name:
        tmp = Path(tmp_name)
        KeyStore(tmp / "keys", generate_missing=True).init()
        for store in stores:
            with ExitStack() as stack:
                if store == "sqlite":
                    urls = [str(tmp / "bench.sqlite"), str(tmp / "raw.sqlite")]
                else:
                    schemas = [f"bench_{os.getpid()}_service", f"bench_{os.getpid()}_raw"]
                    urls = [stack.enter_context(postgres_schema(s)) for s in schemas]
                service = open_city(tmp, urls[0])
                stack.callback(service.close)
                raw = open_city(tmp, urls[1])
                stack.callback(raw.close)
                size = sizes(store, quick)
                first = bench_registrations(report, store, service, raw, size.registrations)
                fill(report, store, service, first, size.log_events)
                bench_rebuilds(report, store, service)
    if "postgres" in stores:
        rebuilds = {n: report.figures[f"postgres.rebuild_{n}"].value for n in READ_MODELS}
        met = all(v >= TARGET_POSTGRES_REBUILD for v in rebuilds.values())
        report.checks["postgres.rebuild_target_events_per_s"] = TARGET_POSTGRES_REBUILD
        report.checks["postgres.rebuild_target_met"] = met
        report.note(
            f"PostgreSQL rebuild target {TARGET_POSTGRES_REBUILD} events/s "
            f"{'MET' if met else 'NOT MET'}: "
            + ", ".join(f"{n} {v:,.0f} events/s" for n, v in rebuilds.items())
        )
    return report
