"""A department's register of numbers it hands out: licence serials, status-list bits,
credit codes. One file per department, so two numbers of a kind are never the same: the
process that allocates them is its only writer, and a lost race is answered again."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mycity.domain.personal import not_personal


def register_id(department: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"mycity:register:{department}")


class Register(Aggregate):
    id: UUID

    @not_personal("department")
    class Opened(Aggregate.Created):
        department: str

    @not_personal("kind", "number")
    class Allocated(Aggregate.Event):
        kind: str  # "licence", "status", "enterprise"
        number: int

    @event(Opened)
    def __init__(self, department: str) -> None:
        self.department = department
        self.last: dict[str, int] = {}

    @classmethod
    def open(cls, department: str) -> Register:
        return cls(id=register_id(department), department=department)  # type: ignore[call-arg]

    def allocate(self, kind: str) -> int:
        """The next number of this kind, from 1."""
        number = self.last.get(kind, 0) + 1
        self._allocated(kind=kind, number=number)
        return number

    @event(Allocated)
    def _allocated(self, kind: str, number: int) -> None:
        self.last[kind] = number
