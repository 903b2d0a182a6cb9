"""The retention sweep: a closed account's statutory records go when kept no longer.

Time, not an event, makes them due. The list comes from the retention schedule (a read
model) and may lag; each file decides again on its own (a legal hold keeps it), and the
erasures process shreds the key again after a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from mycity.store.unavailable import log_failure
from mycity.usecases.privacy import Privacy
from mycity.usecases.sweeps import Sweep

log = logging.getLogger(__name__)
Due = Callable[[date, int], list[UUID]]  # today, how many -> closed accounts now due


@dataclass
class RetentionSweep(Sweep):
    privacy: Privacy
    due: Due

    def sweep(self) -> int:
        erased = 0
        for citizen_id in self.due(self.privacy.today(), self.batch):
            try:
                erased += self.privacy.erase_statutory_records(citizen_id)
            except Exception:  # one file that fails holds back none of the others
                log_failure(log, "the statutory records of %s could not be erased", citizen_id)
        return erased
