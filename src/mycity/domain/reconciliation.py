"""A day's reconciliation (对账): the provider's statement of the day held against the
city's records of it, and whether they agreed. Recorded each time it is run, so a
settlement shows whether its day was found clean, and an auditor sees when and by whom."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mycity.domain.personal import not_personal


def statement_day_id(day: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"mycity:statement-day:{day}")


class StatementDay(Aggregate):
    id: UUID

    @not_personal("day")
    class Opened(Aggregate.Created):
        day: str  # YYYY-MM-DD in the city's time zone

    @not_personal("statement_sha256", "lines", "differences", "by")
    class Reconciled(Aggregate.Event):
        statement_sha256: str  # the statement as compared
        lines: int  # its charges and refunds
        differences: int  # 0: a clean day
        by: str  # who ran it (the operator's command: "cli")

    @event(Opened)
    def __init__(self, day: str) -> None:
        self.day = day
        self.clean: bool | None = None

    def reconciled(self, *, statement_sha256: str, lines: int, differences: int, by: str) -> None:
        self._reconciled(
            statement_sha256=statement_sha256, lines=lines, differences=differences, by=by
        )

    @event(Reconciled)
    def _reconciled(self, statement_sha256: str, lines: int, differences: int, by: str) -> None:
        self.clean = differences == 0
