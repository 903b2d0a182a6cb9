"""The sweep that ends a public record's publication when its period is over: time, not an
event, makes it due. The list comes from the public list's read model and may lag; each
record decides again on its own file, so one repaired meanwhile is left as it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from mycity.usecases.credit import Credits
from mycity.usecases.sweeps import Sweep

Expiring = Callable[[date, int], list[UUID]]  # today, how many -> records to end


@dataclass
class PublicationSweep(Sweep):
    credits: Credits
    expiring: Expiring

    def sweep(self) -> int:
        due = self.expiring(self.credits.today(), self.batch)
        return sum(self.credits.expire(record) for record in due)
