"""The sweep that lapses acceptances whose missing material (容缺) is overdue.

Time, not an event, makes them due, so no follower of the log would see it: the runner
asks this once a minute. The list comes from a read model and may lag; each application
decides again on its own file, so a material supplied meanwhile keeps its acceptance.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from mycity.usecases.applications import Applications

Lapsing = Callable[[date, int], list[UUID]]  # today, how many -> applications to lapse


@dataclass
class Lapses:
    applications: Applications
    lapsing: Lapsing
    every_seconds: float = 60.0
    batch: int = 100
    _swept_at: float = field(default=float("-inf"))

    def sweep_if_due(self) -> int:
        """Lapse what is overdue, if a sweep is due; the number lapsed."""
        if time.monotonic() - self._swept_at < self.every_seconds:
            return 0
        self._swept_at = time.monotonic()
        return self.sweep()

    def sweep(self) -> int:
        due = self.lapsing(self.applications.today(), self.batch)
        return sum(self.applications.lapse(application_id) for application_id in due)
