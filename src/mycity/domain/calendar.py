"""Working days, by which time limits (办理时限) are counted.

A day is a working day if it is a make-up workday (调休上班日), or a Monday to Friday that is
not a public holiday (法定节假日). The State Council General Office publishes each year's
holidays late in the year before; the city ships them as package data, one file a year.

Beyond the years the files cover, only weekends are days off: a due date that far ahead is
still given (a few days early at worst, never late to compute), and nothing is logged. The
fix is to ship the next year's file before applications can reach into it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NoReturn

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date]
    workdays: frozenset[date]  # make-up workdays: weekend days worked in a holiday's stead

    def is_working_day(self, d: date) -> bool:
        return d in self.workdays or (d.weekday() < 5 and d not in self.holidays)

    def add_working_days(self, start: date, days: int) -> date:
        """The due date: the days-th working day after start (start itself never counts).

        A limit of 1 on an application submitted on a Friday is due on Monday, and on one
        submitted on a Sunday, also Monday. With days = 0 it is start itself.
        """
        if days < 0:
            raise ValueError("days is 0 or more")
        d = start
        while days:
            d += _DAY
            if self.is_working_day(d):
                days -= 1
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """The working days after a up to and including b; negative when b is before a.

        The inverse of add_working_days: working_days_between(a, add_working_days(a, n)) == n,
        and working_days_between(due, today) > 0 is how many working days overdue.
        """
        if b < a:
            return -self.working_days_between(b, a)
        return sum(self.is_working_day(a + _DAY * i) for i in range(1, (b - a).days + 1))


class CalendarError(ValueError):
    """A calendar file that cannot be used, named with the entry and the field."""


_FILE = re.compile(r"^(\d{4})\.json$", re.ASCII)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_STATUSES = ("published", "provisional")
_LONGEST_HOLIDAY = 10  # days; the longest run so far is the Spring Festival's 9


class _Entry:
    """Reads one entry of a calendar file, naming the file and where in it."""

    def __init__(self, file: str, year: int) -> None:
        self.file = file
        self.year = year

    def fail(self, field: str, problem: str) -> NoReturn:
        raise CalendarError(f"{self.file}: {field}: {problem}")

    def keys(self, field: str, value: Any, keys: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(field or "document", "expected an object")
        prefix = f"{field}." if field else ""
        for key in value:
            if key not in keys:
                self.fail(prefix + str(key), "unknown key")
        for key in keys:
            if key not in value:
                self.fail(prefix + key, "missing")
        return value

    def text(self, field: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(field, "expected some text")
        return value

    def day(self, field: str, value: Any) -> date:
        """A date in the file's year, or in the December before or the January after it:
        a notice may start a New Year holiday, or its make-up day, in the old year."""
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            self.fail(field, "expected a date as YYYY-MM-DD")
        try:
            d = date.fromisoformat(value)
        except ValueError:
            self.fail(field, f"{value} is not a date")
        if not date(self.year - 1, 12, 1) <= d <= date(self.year + 1, 1, 31):
            self.fail(field, f"{value} is not in or next to {self.year}")
        return d

    def claim(self, field: str, d: date, seen: dict[date, str]) -> date:
        """A day is a holiday or a make-up workday, in one file: never both, never twice."""
        if d in seen:
            self.fail(field, f"{d} is also listed in {seen[d]}")
        seen[d] = self.file
        return d

    def array(self, field: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            self.fail(field, "expected a list")
        return value


def parse_calendar(documents: Mapping[str, Any]) -> WorkCalendar:
    """The calendar of these year files (parsed JSON by file name), checked whole.

    Each file is {"year", "status": "published" | "provisional", "source", "holidays":
    [{"name", "from", "to"}], "workdays": [{"date", "for": a holiday's name}]}.
    """
    if not documents:
        raise CalendarError("the calendar has no year files")
    seen: dict[date, str] = {}  # every day listed so far, and the file that lists it
    holidays: set[date] = set()
    workdays: set[date] = set()
    for file, document in sorted(documents.items()):
        match = _FILE.match(file)
        if not match:
            raise CalendarError(f"{file}: expected a file named YYYY.json")
        at = _Entry(file, int(match.group(1)))
        raw = at.keys("", document, ("year", "status", "source", "holidays", "workdays"))
        if raw["year"] != at.year:
            at.fail("year", f"expected {at.year}, as the file is named")
        if raw["status"] not in _STATUSES:
            at.fail("status", "expected published or provisional")
        at.text("source", raw["source"])
        names: set[str] = set()
        for i, entry in enumerate(at.array("holidays", raw["holidays"])):
            field = f"holidays[{i}]"
            holiday = at.keys(field, entry, ("name", "from", "to"))
            names.add(at.text(f"{field}.name", holiday["name"]))
            first = at.day(f"{field}.from", holiday["from"])
            length = (at.day(f"{field}.to", holiday["to"]) - first).days + 1
            if not 0 < length <= _LONGEST_HOLIDAY:
                at.fail(f"{field}.to", f"expected 0 to {_LONGEST_HOLIDAY - 1} days after from")
            for n in range(length):
                holidays.add(at.claim(field, first + _DAY * n, seen))
        for i, entry in enumerate(at.array("workdays", raw["workdays"])):
            field = f"workdays[{i}]"
            workday = at.keys(field, entry, ("date", "for"))
            d = at.day(f"{field}.date", workday["date"])
            if d.weekday() < 5:
                at.fail(f"{field}.date", f"{d} is a weekday: a make-up workday is a weekend day")
            if at.text(f"{field}.for", workday["for"]) not in names:
                at.fail(f"{field}.for", f"{workday['for']} is not a holiday of this file")
            workdays.add(at.claim(f"{field}.date", d, seen))
    return WorkCalendar(frozenset(holidays), frozenset(workdays))
