"""`python -m benchmarks` lists the benchmarks; `python -m benchmarks NAME [--quick]` runs one."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

# name -> (module, what it measures). A module defines `run(quick: bool) -> Report`.
REGISTRY: dict[str, tuple[str, str]] = {
    "registration": (
        "benchmarks.registration",
        "citizen registrations/s vs raw event appends, and read-model rebuild events/s vs raw "
        "reads, on SQLite and PostgreSQL",
    ),
    "audit": (
        "benchmarks.audit",
        "the Merkle tree's cost to recording, audit verify over a million events, inclusion "
        "proofs, and a 10,000-event file's state at any version, on SQLite and PostgreSQL",
    ),
    "city_code": (
        "benchmarks.city_code",
        "city codes: issue_code vs raw Ed25519 signing, offline verify_code vs raw Ed25519 "
        "verification",
    ),
    "licences": (
        "benchmarks.licences",
        "offline licence presentation verification, signatures/s vs raw Ed25519 verification",
    ),
    "followers": (
        "benchmarks.followers",
        "a write's latency at 1 connection with today's followers of the log and with 32 more "
        "read models (each wanting nothing of the write), in process",
    ),
    "http": (
        "benchmarks.http",
        "mycity over HTTP (2 workers, wrk): throughput, latency at half load and at 1 "
        "connection of a read and a write, vs a strawberry hello-world, under uvloop and asyncio",
    ),
    "payments": (
        "benchmarks.payments",
        "chargeByCode over HTTP (2 workers, wrk) through the local provider's own process, vs "
        "the write request in the same run; the payee side's lag behind the payer's",
    ),
    "peer": (
        "benchmarks.peer",
        "mycity's me beside PostGraphile v4 (from npm) and a minimal Starlette route, the same "
        "caller's own row from the same PostgreSQL, over HTTP (2 workers each, wrk), interleaved",
    ),
    "licence_http": (
        "benchmarks.licence_http",
        "a partner's verifyPresentation over HTTP (2 workers, wrk), each request a fresh "
        "presentation: throughput, latency at half load and at 1 connection, vs hello-world",
    ),
    "app": (
        "benchmarks.app",
        "the citizen app in Debian's Chromium: first load (script and style KB, ready ms vs the "
        "home page) and the code screen's redraw of each fresh code",
    ),
    "scans": (
        "benchmarks.scans",
        "city-code scans: scanCityCode over HTTP (2 workers, wrk) vs hello-world, offline "
        "batches (scans/s), and a scan on a 10,000-scan file vs a new one",
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("name", nargs="?", choices=sorted(REGISTRY), help="benchmark to run")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run (< 1 min)")
    args = parser.parse_args(argv)
    if args.name is None:
        for name, (_, description) in sorted(REGISTRY.items()):
            print(f"{name:<16} {description}")
        return 0
    # A run stopped by SIGTERM unwinds as one stopped by Ctrl-C does: the servers it started
    # are stopped, its schemas dropped, its files removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    module = importlib.import_module(REGISTRY[args.name][0])
    report = module.run(quick=args.quick)
    print(report.to_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
