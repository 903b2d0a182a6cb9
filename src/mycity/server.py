"""Serving the app with uvicorn: one process, or N workers beside one runner.

uvicorn's own multi-worker mode shares one listening socket between its workers, and
whichever is awake takes a burst of new connections: 32 at once often all land in one
worker, which then does all the work. Here each worker listens on a socket of its own on
the same port (SO_REUSEPORT), and the kernel spreads connections over them.

Every listening socket is made as a TCP socket (protocol number IPPROTO_TCP, as uvicorn's
own since 0.55), so the event loop sets TCP_NODELAY on each connection it accepts: without
it every keep-alive response waits for the client's delayed ACK (about 40 ms).
`tests/test_server.py` checks it on every path we serve by.

`python -m mycity.server MODULE:FACTORY --port P --workers N` serves any ASGI app factory
this way (the `http` benchmark serves its hello-world with it, to compare like with like).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import socket
import threading
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn

from mycity.bootstrap import City
from mycity.http_limits import MAX_BODY

log = logging.getLogger(__name__)


def options(
    host: str, port: int, loop: str = "auto", http: str = "httptools", access_log: bool = False
) -> dict[str, Any]:
    return {
        "host": host,
        "port": port,
        "loop": loop,
        "http": http,
        "access_log": access_log,
        "log_level": "info",
        "timeout_graceful_shutdown": 10,
        "ws_max_size": MAX_BODY,  # a WebSocket message, like an HTTP body
    }


def serve(city: City, *, workers: int = 1, **server: Any) -> None:
    """Serve until interrupted.

    With one worker the app runs in this process and keeps its read models itself (unless
    the settings say a separate runner does). With several on PostgreSQL, this process runs
    the one runner for all of them (runners in every worker would each fold every event)
    and NOTIFY tells the workers how far it got; on SQLite, which cannot notify other
    processes, each worker keeps its own runner.
    """
    config = options(**server)
    if workers == 1:
        from mycity.app import create_app

        uvicorn.run(create_app(city=city), **config)
        return
    stop = threading.Event()
    runner = None
    if city.settings.read_models.inline and city.settings.is_postgres:
        city.listen()
        runner = threading.Thread(
            target=city.runner().run_forever, args=(stop,), name="runner", daemon=True
        )
        runner.start()
        os.environ["MYCITY_INLINE_PROJECTIONS"] = "0"  # read by the workers' settings
    try:
        run_workers("mycity.app:create_app", workers, config)
    finally:
        stop.set()
        city.read_models.wake.set()
        if runner:
            runner.join(timeout=10)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket on the port that other workers' sockets share (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(factory: str, config: dict[str, Any]) -> None:
    sock = listening_socket(config["host"], config["port"])
    uvicorn.Server(uvicorn.Config(factory, factory=True, **config)).run(sockets=[sock])


def run_workers(factory: str, workers: int, config: dict[str, Any]) -> None:
    """N processes, each serving `factory`'s app on its own socket; a worker that dies is
    started again; SIGINT or SIGTERM stops them all (gracefully, then for good)."""
    listening_socket(config["host"], config["port"]).close()  # a taken port fails here, once
    spawn = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start() -> BaseProcess:
        process = spawn.Process(target=_worker, args=(factory, config), daemon=False)
        process.start()
        return process

    def stop(signum: int, frame: Any) -> None:
        stopping.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(workers)]
    log.info("Serving on %s:%s with %d workers", config["host"], config["port"], workers)
    try:
        while not stopping.is_set():
            wait([p.sentinel for p in processes], timeout=0.5)
            for i, process in enumerate(processes):
                if not process.is_alive() and not stopping.is_set():
                    log.warning(
                        "Worker %s exited (%s); starting another", process.pid, process.exitcode
                    )
                    processes[i] = start()
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            process.join(timeout=15)
            if process.is_alive():
                process.kill()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mycity.server", description=__doc__)
    parser.add_argument("factory", help="MODULE:FUNCTION that returns an ASGI app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"])
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    run_workers(
        args.factory,
        args.workers,
        options(args.host, args.port, args.loop, access_log=args.access_log),
    )


if __name__ == "__main__":
    main()
