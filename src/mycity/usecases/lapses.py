"""The sweep that lapses acceptances whose missing material (容缺) is overdue.

Time, not an event, makes them due. The list comes from a read model and may lag; each
application decides again on its own file, so a material supplied meanwhile keeps its
acceptance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from mycity.usecases.applications import Applications
from mycity.usecases.sweeps import Sweep

Lapsing = Callable[[date, int], list[UUID]]  # today, how many -> applications to lapse


@dataclass
class Lapses(Sweep):
    applications: Applications
    lapsing: Lapsing

    def sweep(self) -> int:
        due = self.lapsing(self.applications.today(), self.batch)
        return sum(self.applications.lapse(application_id) for application_id in due)
