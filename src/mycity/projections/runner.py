"""The runner: keeps every follower of the log (read models, processes) caught up.

It sleeps until woken: by a save in this process (`CityFiles.on_saved`), by any process's
save on PostgreSQL (the `Listener`), or after `poll_seconds` at the latest. One failing
follower does not hold back the others; a failing store is retried with back-off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from mycity.store.unavailable import log_failure

log = logging.getLogger(__name__)

# Folds or processes what is new; returns how much it did, or False if a part of it failed
# (and said so in the log: the rest went on, and the runner backs off and tries again).
CatchUp = Callable[[], int | bool]


class Runner:
    def __init__(
        self,
        wake: threading.Event,
        followers: Sequence[tuple[str, CatchUp]],
        *,
        start: Callable[[], object] = lambda: None,
        poll_seconds: float = 0.5,
    ) -> None:
        self.wake = wake
        self.followers = followers
        self.start = start
        self.poll_seconds = poll_seconds

    def run_once(self) -> bool:
        """One pass over every follower; False if any of them failed."""
        healthy = True
        for name, catch_up in self.followers:
            try:
                if catch_up() is False:
                    healthy = False
            except Exception:
                log_failure(log, "%s could not catch up; trying again", name)
                healthy = False
        return healthy

    def run_forever(self, stop: threading.Event) -> None:
        backoff = self.poll_seconds
        started = False
        while not stop.is_set():
            try:
                if not started:
                    self.start()  # e.g. rebuild read models whose rules changed
                    started = True
                healthy = self.run_once()
            except Exception:
                log.exception("The runner could not start; trying again in %.1f s", backoff)
                healthy = False
            backoff = self.poll_seconds if healthy else min(backoff * 2, 30.0)
            self.wake.wait(backoff)
            self.wake.clear()
