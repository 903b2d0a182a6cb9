"""Servers under test, each a subprocess: started, waited for, and always stopped.

A server runs in a session of its own, so that a Ctrl-C in the terminal reaches only the
benchmark, which then stops each server (SIGTERM, then SIGKILL to its process group) on its
way out. Its output goes to a log file, not a pipe: an access log would fill a pipe nobody
reads and stall the server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from benchmarks.common import note

ROOT = Path(__file__).resolve().parent.parent
STARTUP = "Application startup complete."  # uvicorn logs it once per worker
START_TIMEOUT = 60.0  # seconds
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post_graphql(
    url: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    """One GraphQL request over HTTP; the decoded JSON answer (errors included)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(url, body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]
    except urllib.error.HTTPError as e:  # GraphQL errors may come with a 4xx status
        return json.loads(e.read())  # type: ignore[no-any-return]


def connections_per_process(port: int) -> list[int] | None:
    """The established connections to the port, counted per server process, most first
    (None without `ss`): the kernel spreads them over the workers' sockets, and this says
    how evenly it did."""
    if shutil.which("ss") is None:
        return None
    command = ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"]
    listing = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    return sorted(Counter(re.findall(r"pid=(\d+)", listing)).values(), reverse=True)


def _log_tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _answers(url: str) -> bool:
    try:
        return "data" in post_graphql(url, "{ __typename }")
    except (OSError, ValueError):
        return False


def _wait_ready(
    process: subprocess.Popen[bytes], url: str, log: Path, workers: int, started: str | None
) -> None:
    """Until the server answers and every worker has started (connections made before
    then would all go to the first worker and stay there): each worker logs `started` once
    (None: a server that does not say, for which answering is enough)."""
    deadline = time.monotonic() + START_TIMEOUT
    answered_at = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: exited with {process.returncode}\n{_log_tail(log)}")
        if answered_at is None and _answers(url):
            answered_at = time.monotonic()
            if started is None:
                return
        if answered_at is not None:
            if log.read_text(errors="replace").count(started) >= workers:
                return
            if time.monotonic() - answered_at > 10:
                note(f"{url} answers, but its log does not show {workers} workers started")
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url}: not ready after {START_TIMEOUT:.0f} s\n{_log_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            note(f"server {process.pid} did not stop in {STOP_TIMEOUT:.0f} s: killing it")
    with suppress(ProcessLookupError):  # its workers, if any outlived it
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextmanager
def serving(
    command: Sequence[str], port: int, env: Mapping[str, str], log: Path, workers: int
) -> Iterator[str]:
    """Run the server for the duration; yields its GraphQL URL."""
    with served(command, port, env, log, workers) as (url, _):
        yield url


@contextmanager
def served(
    command: Sequence[str],
    port: int,
    env: Mapping[str, str],
    log: Path,
    workers: int,
    started: str | None = STARTUP,
    cwd: Path = ROOT,
) -> Iterator[tuple[str, int]]:
    """Run the server for the duration; yields its GraphQL URL and its process group (its
    session's: the server and every worker it starts)."""
    url = f"http://127.0.0.1:{port}/graphql"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(process, url, log, workers, started)
        yield url, process.pid
    finally:
        _stop(process)


def group_cpu_s(group: int) -> float:
    """The CPU (user + system, in seconds) the live processes of a process group have used."""
    tick = os.sysconf("SC_CLK_TCK")
    used = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == group:  # after the name: state, ppid, pgrp, ...
            used += (int(fields[11]) + int(fields[12])) / tick
    return used
