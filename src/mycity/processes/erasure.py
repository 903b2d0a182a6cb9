"""Erasure, carried through: every recorded `Citizen.Erased` ends in a shredded data key.

The erasing command shreds the key itself, at once; this process follows the log so that
a crash between recording the erasure and shredding cannot leave a key behind. Shredding
and ending sessions are idempotent, so a page answered again after a crash does no harm.
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

    def __init__(self, forget: Callable[[UUID], None]) -> None:
        self.forget = forget  # shreds the person's data key and ends their sessions

    @singledispatchmethod
    def policy(self, event: Any, reply: Reply) -> None:
        pass

    @policy.register
    def _(self, event: Citizen.Erased, reply: Reply) -> None:
        self.forget(event.originator_id)
