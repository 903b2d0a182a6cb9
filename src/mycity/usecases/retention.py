"""The retention sweep: a closed account's statutory records go when kept no longer.

Time, not an event, makes them due. The list comes from the retention schedule (a read
model) and may lag; each file decides again on its own (a legal hold keeps it), and the
erasures process shreds the key again after a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from mycity.usecases.privacy import Privacy
from mycity.usecases.sweeps import Sweep

Due = Callable[[date, int], list[UUID]]  # today, how many -> closed accounts now due


@dataclass
class RetentionSweep(Sweep):
    privacy: Privacy
    due: Due

    def sweep(self) -> int:
        due = self.due(self.privacy.today(), self.batch)
        return sum(self.privacy.erase_statutory_records(citizen_id) for citizen_id in due)
