"""wrk as the load generator: a closed loop over C connections, or an open loop at a fixed rate.

wrk is C and event-driven, so the load costs the 2 cores little of the CPU the server needs
(a Python client would take half of it). Install it with `apt-get install -y wrk` (Debian's
wrk 4.1, built with LuaJIT). benchmarks/wrk/graphql.lua builds the requests, checks every
answer, schedules the open loop and measures latencies; see its header.
"""

from __future__ import annotations

import itertools
import math
import os
import resource
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

SCRIPT = Path(__file__).with_name("wrk") / "graphql.lua"
INSTALL = "apt-get install -y wrk"
START_MS = 200  # graphql.lua's first slot, after every thread has started and connected
DRAIN_MS = 800  # open loop: wait this long after the last slot for its answer
PROBE_AFTER_S = 1.0  # when to look at the server's side of the connections
Probe = Callable[[], list[int] | None]
_tags = itertools.count()


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit(f"wrk is not installed; install it with: {INSTALL}")


def wrk_version() -> str:
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return done.stdout.split(" Copyright")[0].strip()


@dataclass(frozen=True)
class Run:
    """What one wrk run measured; latencies in ms (NaN when not measured)."""

    responses: int
    seconds: float
    bad: dict[str, int]  # answers that are not a correct result, by kind
    p50_ms: float = math.nan
    p90_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    slots: int | None = None  # open loop: requests due in the window
    sample: str | None = None  # the first bad answer
    spread: list[int] | None = None  # what the probe saw: connections per server process
    wrk_cpu_s: float = math.nan  # the CPU wrk itself used, user + system
    wall_s: float = math.nan  # how long wrk ran
    exhausted: int = 0  # requests a thread had no presentation left for (verify)

    @property
    def wrk_cores(self) -> float:
        return self.wrk_cpu_s / self.wall_s

    @property
    def bad_count(self) -> int:
        return sum(self.bad.values())

    @property
    def good(self) -> int:
        """Answers that are correct results (a socket error is no answer)."""
        return self.responses - self.bad_count + self.bad["socket_errors"]

    @property
    def rps(self) -> float:
        """Correct answers per second."""
        return self.good / self.seconds


def _parse(stdout: str) -> Run:
    values = dict(
        line.removeprefix("BENCH ").partition(" ")[::2]
        for line in stdout.splitlines()
        if line.startswith("BENCH ")
    )
    if "responses" not in values:
        raise RuntimeError(f"wrk printed no result:\n{stdout}")
    bad = {k: int(values[k]) for k in ("bad_status", "graphql_errors", "user_errors")}
    bad["socket_errors"] = int(values["socket_errors"])
    if "not_valid" in values:  # verify: answers that are not `"valid": true`
        bad["not_valid"] = int(values["not_valid"])
    return Run(
        responses=int(values["responses"]),
        seconds=float(values["seconds"]),
        bad=bad,
        slots=int(values["slots"]) if "slots" in values else None,
        sample=values.get("sample"),
        exhausted=int(values.get("exhausted", 0)),
        **{k: float(values[k]) for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms") if k in values},
    )


def _wrk(
    url: str,
    query: str,
    threads: int,
    connections: int,
    seconds: int,
    tokens: Path | None,
    probe: Probe | None,
    **env: str,
) -> Run:
    environment = {
        **os.environ,
        "BENCH_QUERY": query,
        "BENCH_TOKENS": str(tokens or ""),
        "BENCH_TAG": str(next(_tags)),
        "BENCH_THREADS": str(threads),
        "BENCH_START_MS": str(START_MS),
        **env,
    }
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    cpu_before, started = _children_cpu_s(), time.monotonic()
    process = subprocess.Popen(
        [*command, "-s", str(SCRIPT), url],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        spread = None
        if probe:
            time.sleep(PROBE_AFTER_S)
            spread = probe()
        stdout, stderr = process.communicate(timeout=seconds + 60)
    except BaseException:
        process.kill()
        process.wait()
        raise
    if process.returncode:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{stdout}\n{stderr}")
    cpu, wall = _children_cpu_s() - cpu_before, time.monotonic() - started
    return replace(_parse(stdout), spread=spread, wrk_cpu_s=cpu, wall_s=wall)


def _children_cpu_s() -> float:
    """CPU of the children reaped so far: around a run of wrk, the servers are not reaped."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def closed_loop(
    url: str,
    query: str,
    *,
    connections: int,
    seconds: int,
    tokens: Path | None = None,
    probe: Probe | None = None,
    payloads: Path | None = None,
) -> Run:
    """Each connection sends its next request as soon as the last is answered. With one
    connection the latencies are measured too."""
    threads = min(connections, 2)  # wrk's threads: one per core
    latencies = "1" if connections == threads else "0"
    return _wrk(
        url,
        query,
        threads,
        connections,
        seconds,
        tokens,
        probe,
        BENCH_LATENCIES=latencies,
        BENCH_PAYLOADS=str(payloads or ""),
    )


def open_loop(
    url: str,
    query: str,
    *,
    rate: float,
    connections: int,
    seconds: int,
    tokens: Path | None = None,
    probe: Probe | None = None,
    payloads: Path | None = None,
) -> Run:
    """`rate` requests/s at fixed slots whatever the answers, one connection per wrk thread;
    latencies from each request's slot (see graphql.lua)."""
    window = seconds * 1000 - START_MS - DRAIN_MS
    rate_env = {
        "BENCH_RATE": f"{rate:.3f}",
        "BENCH_WINDOW_MS": str(window),
        "BENCH_PAYLOADS": str(payloads or ""),
    }
    return _wrk(url, query, connections, connections, seconds, tokens, probe, **rate_env)
