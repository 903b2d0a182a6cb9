"""Sweeps: work that time makes due, which no follower of the log would see.

The runner asks each sweep after every pass; a sweep runs at most every `every_seconds`
and does at most `batch` things each time. One that did a whole batch may have left more
due: it runs again at the runner's next pass, until a backlog is gone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(kw_only=True)
class Sweep:
    every_seconds: float = 60.0
    batch: int = 100
    _swept_at: float = field(default=float("-inf"), init=False)

    def sweep_if_due(self) -> int:
        """Sweep, if a sweep is due; how many things it did."""
        if time.monotonic() - self._swept_at < self.every_seconds:
            return 0
        self._swept_at = time.monotonic()
        done = self.sweep()
        if done >= self.batch:
            self._swept_at = float("-inf")
        return done

    def sweep(self) -> int:
        raise NotImplementedError
