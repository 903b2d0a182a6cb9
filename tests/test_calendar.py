"""Working days: the shipped holidays, due dates across them, and malformed calendar files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mycity.data import load_calendar
from mycity.domain.calendar import CalendarError, WorkCalendar, parse_calendar

CALENDAR = load_calendar()


def test_the_shipped_years_are_as_published() -> None:
    for year, holidays, workdays in ((2025, 28, 5), (2026, 33, 6)):
        assert sum(d.year == year for d in CALENDAR.holidays) == holidays
        assert sum(d.year == year for d in CALENDAR.workdays) == workdays
    assert date(2027, 2, 6) in CALENDAR.holidays  # provisional: the statutory days only
    assert all(d.weekday() >= 5 for d in CALENDAR.workdays)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2026, 3, 13), 1, date(2026, 3, 16)),  # Friday, over the weekend, to Monday
        (date(2026, 3, 15), 1, date(2026, 3, 16)),  # from a Sunday: the start never counts
        (date(2026, 3, 13), 0, date(2026, 3, 13)),
        (date(2026, 3, 9), 10, date(2026, 3, 23)),  # two working weeks
        (date(2025, 9, 30), 1, date(2025, 10, 9)),  # over National Day and Mid-Autumn
        (date(2025, 9, 26), 1, date(2025, 9, 28)),  # the make-up Sunday before it counts
        (date(2025, 10, 10), 1, date(2025, 10, 11)),  # and the make-up Saturday after it
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # the Saturday before Spring Festival
        (date(2026, 2, 14), 1, date(2026, 2, 24)),  # nine days off
        (date(2026, 9, 18), 20, date(2026, 10, 22)),  # 20 days over Mid-Autumn and National Day
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # the New Year, provisional year
    ],
)
def test_due_dates(start: date, days: int, due: date) -> None:
    assert CALENDAR.add_working_days(start, days) == due
    assert CALENDAR.working_days_between(start, due) == days


def test_which_days_are_working_days() -> None:
    assert CALENDAR.is_working_day(date(2026, 10, 9))  # Friday after National Day
    assert CALENDAR.is_working_day(date(2026, 10, 10))  # make-up Saturday
    assert not CALENDAR.is_working_day(date(2026, 10, 5))  # Monday of the holiday
    assert not CALENDAR.is_working_day(date(2026, 10, 17))  # a plain Saturday


def test_beyond_the_known_years_only_weekends_are_off() -> None:
    assert CALENDAR.is_working_day(date(2028, 10, 2))  # a Monday, whatever 2028 brings
    assert not CALENDAR.is_working_day(date(2028, 10, 7))  # a Saturday
    assert CALENDAR.is_working_day(date(2024, 10, 1))  # before the first year too


def test_working_days_between_counts_after_a_up_to_b() -> None:
    assert CALENDAR.working_days_between(date(2026, 3, 16), date(2026, 3, 16)) == 0
    assert CALENDAR.working_days_between(date(2026, 3, 16), date(2026, 3, 20)) == 4
    assert CALENDAR.working_days_between(date(2026, 3, 20), date(2026, 3, 16)) == -4


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="days is 0 or more"):
        CALENDAR.add_working_days(date(2026, 3, 16), -1)


# -- properties ------------------------------------------------------------------------------

DAYS = st.dates(min_value=date(2024, 12, 1), max_value=date(2028, 1, 31))
COUNTS = st.integers(min_value=0, max_value=60)


@settings(max_examples=150)
@given(start=DAYS, days=st.integers(min_value=1, max_value=60))
def test_a_due_date_is_a_working_day(start: date, days: int) -> None:
    assert CALENDAR.is_working_day(CALENDAR.add_working_days(start, days))


@settings(max_examples=150)
@given(start=DAYS, days=COUNTS)
def test_due_dates_grow_with_the_limit(start: date, days: int) -> None:
    assert CALENDAR.add_working_days(start, days) < CALENDAR.add_working_days(start, days + 1)


@settings(max_examples=150)
@given(start=DAYS, days=COUNTS)
def test_working_days_between_inverts_add(start: date, days: int) -> None:
    assert CALENDAR.working_days_between(start, CALENDAR.add_working_days(start, days)) == days


@settings(max_examples=100)
@given(a=DAYS, b=DAYS)
def test_working_days_between_counts_working_days(a: date, b: date) -> None:
    first, last = min(a, b), max(a, b)
    span = (last - first).days
    counted = sum(CALENDAR.is_working_day(first + timedelta(n)) for n in range(1, span + 1))
    assert CALENDAR.working_days_between(first, last) == counted
    assert CALENDAR.working_days_between(last, first) == -counted


# -- malformed files -------------------------------------------------------------------------


def good() -> dict[str, Any]:
    return {
        "2026.json": {
            "year": 2026,
            "status": "published",
            "source": "国务院办公厅关于2026年部分节假日安排的通知",
            "holidays": [
                {"name": "元旦", "from": "2026-01-01", "to": "2026-01-03"},
                {"name": "国庆节", "from": "2026-10-01", "to": "2026-10-07"},
            ],
            "workdays": [
                {"date": "2026-01-04", "for": "元旦"},
                {"date": "2026-10-10", "for": "国庆节"},
            ],
        },
        "2027.json": {
            "year": 2027,
            "status": "provisional",
            "source": "statutory days only",
            "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-01"}],
            "workdays": [],
        },
    }


def holiday(n: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda docs: docs["2026.json"]["holidays"][n]


def workday(n: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda docs: docs["2026.json"]["workdays"][n]


MALFORMED: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    (
        "file not named by its year",
        lambda d: d.update({"holidays.json": d.pop("2027.json")}),
        "holidays.json: expected a file named YYYY.json",
    ),
    (
        "year not the file's",
        lambda d: d["2027.json"].update(year=2028),
        "2027.json: year: expected 2027, as the file is named",
    ),
    ("unknown key", lambda d: d["2027.json"].update(notes="x"), "2027.json: notes: unknown key"),
    ("missing key", lambda d: d["2027.json"].pop("source"), "2027.json: source: missing"),
    (
        "status unknown",
        lambda d: d["2027.json"].update(status="draft"),
        "2027.json: status: expected published or provisional",
    ),
    (
        "date malformed",
        lambda d: holiday(1)(d).update(to="2026-10-7"),
        "2026.json: holidays[1].to: expected a date as YYYY-MM-DD",
    ),
    (
        "date impossible",
        lambda d: holiday(0)(d).update({"from": "2026-02-30"}),
        "2026.json: holidays[0].from: 2026-02-30 is not a date",
    ),
    (
        "date in another year",
        lambda d: workday(0)(d).update(date="2028-01-01"),
        "2026.json: workdays[0].date: 2028-01-01 is not in or next to 2026",
    ),
    (
        "holiday ending before it starts",
        lambda d: holiday(1)(d).update(to="2026-09-30"),
        "2026.json: holidays[1].to: expected 0 to 9 days after from",
    ),
    (
        "holiday too long",
        lambda d: holiday(1)(d).update(to="2026-10-20"),
        "2026.json: holidays[1].to: expected 0 to 9 days after from",
    ),
    (
        "holiday entry with an unknown key",
        lambda d: holiday(0)(d).update(days=3),
        "2026.json: holidays[0].days: unknown key",
    ),
    (
        "make-up workday on a weekday",
        lambda d: workday(1)(d).update(date="2026-10-09"),
        "2026.json: workdays[1].date: 2026-10-09 is a weekday: a make-up workday is a weekend day",
    ),
    (
        "make-up workday for no holiday",
        lambda d: workday(1)(d).update({"for": "春节"}),
        "2026.json: workdays[1].for: 春节 is not a holiday of this file",
    ),
    (
        "a day both holiday and workday",
        lambda d: workday(1)(d).update(date="2026-10-03"),
        "2026.json: workdays[1].date: 2026-10-03 is also listed in 2026.json",
    ),
    (
        "a day in two files",
        lambda d: (
            d["2026.json"]["holidays"].append(
                {"name": "x", "from": "2026-12-31", "to": "2026-12-31"}
            ),
            d["2027.json"]["holidays"][0].update({"from": "2026-12-31"}),
        ),
        "2027.json: holidays[0]: 2026-12-31 is also listed in 2026.json",
    ),
    (
        "holidays not a list",
        lambda d: d["2026.json"].update(holidays={}),
        "2026.json: holidays: expected a list",
    ),
]


def test_the_small_calendar_is_valid() -> None:
    calendar = parse_calendar(good())
    assert calendar == WorkCalendar(
        holidays=frozenset(
            [date(2026, 1, n) for n in (1, 2, 3)]
            + [date(2026, 10, n) for n in range(1, 8)]
            + [date(2027, 1, 1)]
        ),
        workdays=frozenset({date(2026, 1, 4), date(2026, 10, 10)}),
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [(edit, message) for _, edit, message in MALFORMED],
    ids=[i for i, _, _ in MALFORMED],
)
def test_a_malformed_calendar_is_refused_naming_file_and_entry(
    edit: Callable[[dict[str, Any]], object], message: str
) -> None:
    documents = good()
    edit(documents)
    with pytest.raises(CalendarError) as refused:
        parse_calendar(documents)
    assert str(refused.value) == message


def test_an_empty_calendar_is_refused() -> None:
    with pytest.raises(CalendarError, match="no year files"):
        parse_calendar({})
