"""Read models: how far they are, rebuilding them, and the runner that keeps them live."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from mycity.bootstrap_log import ShardFailed
from mycity.cli.app import UNAVAILABLE, Failure
from mycity.cli.city import open_city
from mycity.cli.progress import progress_bar
from mycity.projections.read_models import RebuildRunning
from mycity.store.preflight import StoreUnavailable

if TYPE_CHECKING:
    from mycity.bootstrap import City

log = logging.getLogger(__name__)
group = typer.Typer(help="Read models: status, rebuild, run.", no_args_is_help=True)


@group.command("status")
def status() -> None:
    """Each read model's generation, position in the log, and lag behind its head."""
    city = open_city()
    try:
        rows = city.read_models.status()
    finally:
        city.close()
    typer.echo(f"{'read model':<20} {'gen':>4} {'ver':>4} {'position':>10} {'head':>10} {'lag':>8}")
    for r in rows:
        stale = "  (rules changed: rebuild)" if r["version"] != r["code_version"] else ""
        typer.echo(
            f"{r['name']:<20} {r['generation']:>4} {r['version']:>4} {r['position']:>10} "
            f"{r['head']:>10} {r['lag']:>8}{stale}"
        )


@group.command("rebuild")
def rebuild(
    names: Annotated[list[str] | None, typer.Argument(help="Read models to rebuild.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Rebuild every read model.")] = False,
) -> None:
    """Rebuild from zero beside the live generation, then switch readers over."""
    if bool(names) == every:
        raise Failure("name the read models to rebuild, or give --all (not both)")
    city = open_city()
    try:
        known = list(city.read_models.classes)
        for name in names or known:
            if name not in known:
                raise Failure(f"no read model {name!r}: it is one of {', '.join(known)}")
        for name in names or known:
            with progress_bar(name) as advanced:
                try:
                    r = city.read_models.rebuild(name, progress=advanced)
                except RebuildRunning:
                    raise Failure(
                        f"{name} is being rebuilt by another process: wait for it", UNAVAILABLE
                    ) from None
                except ShardFailed as e:
                    raise Failure(f"{name} not rebuilt, readers keep the live one: {e}") from None
            rate = r["events"] / r["seconds"] if r["seconds"] else 0.0
            typer.echo(
                f"{name}: generation {r['generation']}, {r['events']} events in "
                f"{r['seconds']:.2f} s ({rate:,.0f} events/s), at position {r['position']}"
            )
    finally:
        city.close()


@group.command("run")
def run() -> None:
    """Keep every read model and process caught up until stopped (SIGTERM, or Ctrl-C); while
    the store cannot be reached, try again with a growing pause (up to 30 s)."""
    with interrupted_by(signal.SIGTERM):
        try:
            city = _open_when_reachable()
            try:
                city.listen()
                city.runner().run_forever(threading.Event())
            finally:
                city.close()
        except KeyboardInterrupt:
            return  # a stop asked for: each page commits whole, so nothing is half done


def _open_when_reachable() -> City:
    pause = 1.0
    while True:
        try:
            return open_city()
        except StoreUnavailable as e:
            log.warning("%s; trying again in %.0f s", e, pause)
            time.sleep(pause)
            pause = min(pause * 2, 30.0)


@contextmanager
def interrupted_by(signum: signal.Signals) -> Iterator[None]:
    """While the block runs, the signal interrupts it as Ctrl-C does: a supervisor stops the
    runner with SIGTERM (systemd, k8s), and a shell starts a background job with SIGINT
    ignored, so SIGTERM is the one that always lands."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signum, interrupt)
    try:
        yield
    finally:
        signal.signal(signum, previous)


def register(cli: typer.Typer) -> None:
    cli.add_typer(group, name="projections")
