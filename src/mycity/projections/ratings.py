"""好差评 per department: how its completed applications were rated, and the follow-ups.

`Application.Rated` does not say which department the application went to, and a row
keyed by department could not learn it from the event alone. So the table holds one small
row per application, keyed by its id like every event of it: its department (from
`Submitted`), its grade and the state of its follow-up. The reader adds them up per
department in SQL. No personal data: the comment stays in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatchmethod
from typing import Any

from mycity.domain.application import Application
from mycity.domain.application_status import Grade
from mycity.projections.fold import RowProjection
from mycity.projections.store import LiveRows, Row, TableSpec


class Ratings(RowProjection):
    name = "rating_statistics"
    opens = frozenset()  # grades only: the comment stays in the file
    version = 1
    creating = (Application.Submitted,)
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),  # the application
            ("department", "TEXT NOT NULL"),
            ("grade", "TEXT NOT NULL"),  # "" until rated
            ("follow_up_open", "INTEGER NOT NULL"),
            ("follow_up_closed", "INTEGER NOT NULL"),
        ),
        indexes=(("department", "grade"), ("grade",)),
    )

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: Application.Submitted, row: Row | None) -> Row:
        return {
            "id": str(event.originator_id),
            "department": event.department,
            "grade": "",
            "follow_up_open": 0,
            "follow_up_closed": 0,
        }

    @apply.register
    def _(self, event: Application.Rated, row: Row | None) -> Row | None:
        return row and row | {"grade": event.grade, "follow_up_open": int(event.follow_up)}

    @apply.register
    def _(self, event: Application.FollowUpClosed, row: Row | None) -> Row | None:
        return row and row | {"follow_up_open": 0, "follow_up_closed": 1}


@dataclass(frozen=True)
class RatingStats:
    """One department's ratings: how many of each grade, and its follow-ups (a bad grade
    opens one that the department must close)."""

    department: str
    very_satisfied: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    very_dissatisfied: int = 0
    total: int = 0
    follow_ups_open: int = 0
    follow_ups_closed: int = 0

    def count(self, grade: Grade) -> int:
        return int(getattr(self, grade.value.lower()))


_TALLIED = (  # the fields of `RatingStats` that count
    *(grade.value.lower() for grade in Grade),
    "total",
    "follow_ups_open",
    "follow_ups_closed",
)


class RatingStatistics:
    """The reader of `rating_statistics`; only `mycity.reads` uses it (the one door)."""

    def __init__(self, rows: LiveRows) -> None:
        self.rows = rows

    def of(self, department: str) -> RatingStats:
        """The department's ratings (all zero if none yet)."""
        found = self._grouped("AND department = ?", [department])
        return found.get(department) or RatingStats(department)

    def all(self) -> list[RatingStats]:
        """Every department with a rating, by department."""
        return [stats for _, stats in sorted(self._grouped("", []).items())]

    def _grouped(self, condition: str, params: list[Any]) -> dict[str, RatingStats]:
        """Counted by the database per (department, grade), folded into one per department."""
        with self.rows.db.read() as cur:
            found = cur.execute(
                "SELECT department, grade, COUNT(*) AS rated, SUM(follow_up_open) AS opened, "
                f"SUM(follow_up_closed) AS closed FROM {self.rows.view} "
                f"WHERE grade <> '' {condition} GROUP BY department, grade",
                params,
            ).fetchall()
        tallies: dict[str, dict[str, int]] = {}
        for row in found:
            tally = tallies.setdefault(row["department"], dict.fromkeys(_TALLIED, 0))
            tally[Grade(row["grade"]).value.lower()] = int(row["rated"])
            tally["total"] += int(row["rated"])
            tally["follow_ups_open"] += int(row["opened"])
            tally["follow_ups_closed"] += int(row["closed"])
        return {name: RatingStats(name, **tally) for name, tally in tallies.items()}
