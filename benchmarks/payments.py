"""payments: `chargeByCode` over HTTP, 2 workers, each charge through the local provider's own
process and recorded on both sides, against the `http` benchmark's `write` in the same run.

The payments issue's targets: `chargeByCode` at least 0.5 of the `write` request's
(`changeContact`) req/s at 32 connections, served the same way in the same run; p99 at most
100 ms under a steady offered load of half that throughput; the payee's side (the `payees`
process) behind the payer's side by at most 1 s at p99.

For `--loop uvloop` and then `--loop asyncio`, with fresh servers, store and provider (see
benchmarks/http.py, whose servers, wrk runs and checks this reuses):

- the city is served with a payment provider set (`MYCITY_PAYMENT_*`), and the provider is
  started beside it, a process of its own (`mycity provider serve`, notifying the city);
- a pool of citizens registers through GraphQL (their tokens for `write`); a City built in
  this process from the servers' settings opens each a funded payer account at the
  provider, adds the merchant client (its token for `charge`), and, before each `charge`
  run, issues enough payment codes for it (a code pays once; `MYCITY_CITY_CODE_SECONDS`
  3600 so they outlive the run): wrk's thread j of N sends lines j, j+N, ... of the file,
  each with an idempotency key of its own. An answer without `"status": "SUCCEEDED"` is
  counted as bad;
- runs as http's: `write` first (the baseline), then `charge`: throughput (closed loop, 32
  connections, after a warm-up), latency at half that throughput (open loop), latency at
  one connection;
- then, once the payee's side has caught up, the lag of each payment's
  `PayeeDay.Received` behind its `Payment.Succeeded` (the events' times), and the count:
  one of each per succeeded answer, and at most one more per connection of each run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.utils import get_topic

from benchmarks.audit import percentile
from benchmarks.citizens import register_pool
from benchmarks.common import Report, note
from benchmarks.http import (
    CONNECTIONS,
    city_environment,
    git_commit,
    http_setup,
    log_in,
    run_loops,
    serve_both,
)
from benchmarks.licence_http import SuppliedBench
from benchmarks.loadgen import Run, closed_loop, require_wrk
from benchmarks.servers import free_port
from mycity.bootstrap import City, build
from mycity.domain.payee_day import PayeeDay
from mycity.domain.payment import Payment
from mycity.identity.principal import Principal, Role
from mycity.integrations.provider import Provider
from mycity.integrations.provider_process import local_provider, open_accounts
from mycity.settings import Settings

THROUGHPUT_TARGET = 0.5  # charge's req/s over write's, at least
HALF_P99_TARGET_MS = 100  # at half charge's throughput, at most
PAYEE_LAG_P99_TARGET_MS = 1000  # the payee's side behind the payer's, at most
SHOP = "shop-bench"
BALANCE_FEN = 1_000_000_000  # each payer's: never runs out
WARMUP_GUESS_RPS = 600  # the warm-up's supply, before anything is measured


@dataclass(frozen=True)
class Sizes:
    pool: int  # citizens: writers, and payers
    warmup_s: int
    throughput_s: int
    half_s: int
    half_hello_s: int  # the baseline's open loop (write's, here)
    one_connection_s: int
    attempts: int


def sizes(quick: bool) -> Sizes:
    if quick:
        return Sizes(100, 1, 2, 3, 3, 1, attempts=1)
    return Sizes(1000, 2, 10, 20, 20, 8, attempts=2)


class Codes:
    """Fresh payment codes for each wrk run, written to a file wrk's threads share out."""

    def __init__(self, city: City, payers: list[Principal], path: Path) -> None:
        self.city, self.payers, self.path = city, payers, path
        self.made = 0

    def write(self, count: int) -> Path:
        issue = self.city.city_codes.issue
        payers = self.payers
        lines = [issue(payers[(self.made + k) % len(payers)]).payload for k in range(count)]
        self.path.write_text("".join(f"{line}\n" for line in lines))
        self.made += count
        return self.path


class ChargeBench(SuppliedBench):
    """http's runs and checks, `write` as the baseline, with fresh codes before each charge
    run and each request's own tokens."""

    supplied_query, supplied_what, guess_rps = "charge", "payment codes", WARMUP_GUESS_RPS

    def __init__(
        self, report: Report, loop: str, urls: dict[str, str], tokens: dict[str, Path],
        attempts: int, codes: Codes,
    ) -> None:  # fmt: skip
        super().__init__(report, loop, urls, tokens["write"], attempts)
        self.token_files, self.codes = tokens, codes
        self.hello_rps = f"{loop}.write_rps"  # the baseline of the ratios

    def supply(self, count: int, seconds: int) -> Path:
        return self.codes.write(count)

    def wrk(self, query: str, kind: str, attempt: Callable[..., Run], **options: Any) -> Run:
        self.tokens = self.token_files[query]
        return super().wrk(query, kind, attempt, **options)

    def all(self, size: Sizes) -> None:  # type: ignore[override]
        runs: dict[str, dict[str, Run]] = {}
        for name in ("write", "charge"):
            self.wrk(name, "warmup", closed_loop, connections=CONNECTIONS, seconds=size.warmup_s)
            throughput = self.throughput(name, size.throughput_s)
            self.report.add(f"{self.loop}.{name}_rps", throughput.rps, "req/s", self.hello_rps)
            half_s = size.half_hello_s if name == "write" else size.half_s
            runs[name] = {
                "throughput": throughput,
                "half": self.at_half(name, half_s),
                "single": self.one_connection(name, size.one_connection_s),
            }
        ratio = self.report.ratio(f"{self.loop}.charge_rps") or 0.0
        both = (runs["charge"]["throughput"], runs["write"]["throughput"])
        self.check(f"charge_rps_ratio_ge_{THROUGHPUT_TARGET}", ratio >= THROUGHPUT_TARGET, *both)
        self.check_half(runs, "charge", HALF_P99_TARGET_MS)


def payee_lags_ms(city: City, timeout_s: float = 60) -> tuple[int, list[float]]:
    """Once every succeeded payment is on its payee's book (the servers' runner catches up),
    each one's lag: the book's event time less the payment's. (payments, lags)"""
    deadline = time.monotonic() + timeout_s
    while True:
        succeeded = _times(city, Payment.Succeeded, lambda e: e.originator_id)
        received = _times(city, PayeeDay.Received, lambda e: e.payment)
        if set(succeeded) <= set(received) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    lags = [(received[p] - at) * 1000 for p, at in succeeded.items() if p in received]
    return len(succeeded), lags


def _times(city: City, kind: type, key: Callable[[Any], UUID]) -> dict[UUID, float]:
    found, start = {}, None
    while page := city.files.recorder.select_notifications(start, 5_000, topics=[get_topic(kind)]):
        for notification in page:
            event = city.files.mapper.to_domain_event(notification)
            found[key(event)] = event.timestamp.timestamp()
        start = page[-1].id + 1
    return found


def bench_loop(report: Report, loop: str, keys: Path, tmp: Path, size: Sizes) -> None:
    """Fresh store, provider, servers and pool for this loop."""
    (tmp / "data").mkdir(parents=True)
    with ExitStack() as stack:
        env = city_environment(stack, report.sizes["store"], keys, tmp, "payments")
        provider_keys = Provider(tmp / "provider")
        provider_port = free_port()
        provider_url = f"http://127.0.0.1:{provider_port}"
        env |= {
            "MYCITY_CITY_CODE_SECONDS": "3600",
            "MYCITY_PAYMENT_PROVIDER": provider_url,
            "MYCITY_PAYMENT_PROVIDER_KEY": provider_keys.api_key,
            "MYCITY_PAYMENT_WEBHOOK_KEY": provider_keys.public_key,
        }
        _, url = serve_both(stack, loop, env, tmp)
        notify = f"http://127.0.0.1:{urlsplit(url).port}/payments/notifications"
        stack.enter_context(local_provider(tmp / "provider", provider_port, notify))
        outbox = Path(env["MYCITY_DATA_DIR"]) / "sms-outbox.jsonl"
        tokens = register_pool(url, outbox, size.pool)
        (tmp / "tokens.txt").write_text("".join(f"{t}\n" for t in tokens))
        city = build(Settings.from_env(env))
        stack.callback(city.close)
        payers = [_payer(city, token) for token in tokens]
        open_accounts(
            provider_url,
            provider_keys.api_key,
            [city.ids.payer(p.citizen_id) for p in payers if p.citizen_id],
            [f"merchant:{SHOP}"],
            BALANCE_FEN,
        )
        secret = city.clients.add(SHOP, Role.MERCHANT, "压测商店", None)
        (tmp / "shop.txt").write_text(log_in(url, SHOP, secret) + "\n")
        codes = Codes(city, payers, tmp / "codes.txt")
        token_files = {"write": tmp / "tokens.txt", "charge": tmp / "shop.txt"}
        bench = ChargeBench(report, loop, {"write": url, "charge": url}, token_files,
                            size.attempts, codes)  # fmt: skip
        bench.all(size)
        paid, lags = payee_lags_ms(city)
        note(f"[{loop}] stopping the servers")
    p99 = percentile(lags, 0.99) if lags else float("inf")
    report.add(f"{loop}.payee_lag_p50_ms", percentile(lags, 0.5) if lags else 0.0, "ms")
    report.add(f"{loop}.payee_lag_p99_ms", p99, "ms")
    report.checks[f"{loop}.payee_lag_p99_ms_le_{PAYEE_LAG_P99_TARGET_MS}"] = (
        p99 <= PAYEE_LAG_P99_TARGET_MS
    )
    answers = bench.answers["charge"]
    report.sizes.setdefault("charges", {})[loop] = {
        "codes_issued": codes.made,
        "succeeded_answers": answers.good,
        "payments_succeeded": paid,
        "on_payee_books": len(lags),
    }
    recorded_ok = answers.good <= paid <= answers.good + answers.unanswered and len(lags) == paid
    report.checks.setdefault("each_payment_recorded_on_both_sides", {})[loop] = recorded_ok


def _payer(city: City, token: str) -> Principal:
    principal = city.tokens.verify(token)
    if principal is None or principal.citizen_id is None:
        raise RuntimeError("a pool token names no citizen")
    return principal


def run(quick: bool) -> Report:
    require_wrk()
    report = Report("payments", quick)
    size = sizes(quick)
    report.sizes.update(commit=git_commit(), pool=size.pool)
    http_setup(report, size)
    run_loops(report, size, bench_loop, "each_payment_recorded_on_both_sides")
    return report
