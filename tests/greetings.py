"""A process for the tests: it greets each new citizen, and counts their contact changes.

Its answers are events on aggregates of its own, so that answering an event twice or
not at all would show in the counts.
"""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mycity.domain.citizen import Citizen
from mycity.processes.tracked import Process, Reply


def greeting_id(citizen_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"greeting:{citizen_id}")


class Greeting(Aggregate):
    id: UUID

    class Greeted(Aggregate.Created):
        citizen_id: UUID

    class ChangeNoticed(Aggregate.Event):
        pass

    @event(Greeted)
    def __init__(self, citizen_id: UUID) -> None:
        self.citizen_id = citizen_id
        self.changes = 0

    @event(ChangeNoticed)
    def notice_change(self) -> None:
        self.changes += 1


class Greeter(Process):
    name = "greeter"

    @singledispatchmethod
    def policy(self, event: Any, reply: Reply) -> None:
        pass

    @policy.register
    def _(self, event: Citizen.Registered, reply: Reply) -> None:
        reply.save(Greeting(id=greeting_id(event.originator_id), citizen_id=event.originator_id))  # type: ignore[call-arg]

    @policy.register
    def _(self, event: Citizen.ContactChanged, reply: Reply) -> None:
        greeting = reply.get(Greeting, greeting_id(event.originator_id))
        greeting.notice_change()
        reply.save(greeting)
