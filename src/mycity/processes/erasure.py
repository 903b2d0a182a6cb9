"""Erasure, carried through: every recorded `Citizen.Erased` ends in a shredded key of the
person's service activity, every `Citizen.StatutoryRecordsErased` in a shredded key of
their statutory records.

The erasing command (or the retention sweep) shreds the key itself, at once; this process
follows the log so that a crash between recording the erasure and shredding cannot leave
a key behind. Shredding and ending sessions are idempotent, so a page answered again
after a crash does no harm.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.citizen import Citizen
from mycity.processes.tracked import Process, Reply


class Erasures(Process):
    name = "erasures"

    def __init__(
        self, forget: Callable[[UUID], None], forget_records: Callable[[UUID], None]
    ) -> None:
        self.forget = forget  # shreds the service activity's key and ends the sessions
        self.forget_records = forget_records  # shreds the statutory records' key

    @singledispatchmethod
    def policy(self, event: Any, reply: Reply) -> None:
        pass

    @policy.register
    def _(self, event: Citizen.Erased, reply: Reply) -> None:
        self.forget(event.originator_id)

    @policy.register
    def _(self, event: Citizen.StatutoryRecordsErased, reply: Reply) -> None:
        self.forget_records(event.originator_id)
