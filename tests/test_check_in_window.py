"""A check-in sent again (a retry, a double tap) is the same visit for 60 s from the
moment the visit began, whichever minute of the clock the two taps fall in
(city-code.md, "Place codes and check-ins"); at 60 s it is a visit of its own. Tried on
a stopped clock at the exact edge, on both sides, and across a minute's turn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mycity.bootstrap import City
from mycity.domain.scan import REVISIT_SECONDS
from tests.helpers import CitizenFactory, Person
from tests.services import HOTEL

BEGUN = datetime(2026, 3, 10, 4, 0, 30, tzinfo=UTC)  # half a minute into the clock's minute
MOMENT = timedelta(microseconds=1)
AGAIN = timedelta(seconds=REVISIT_SECONDS)


@pytest.fixture
def poster(city: City) -> str:
    city.clients.add(HOTEL.subject, HOTEL.role, HOTEL.name)
    payload, _ = city.scans.place_code(HOTEL, "大堂")
    return payload


def checked_in(city: City, person: Person, poster: str, moment: datetime) -> str:
    city.clock.stopped_at = moment
    return str(city.scans.check_in(person.principal, poster).scan_id)


def test_a_tap_a_moment_before_60_s_is_the_same_visit_across_the_minutes_turn(
    city: City, people: CitizenFactory, poster: str
) -> None:
    guest = people.register("住客")
    first = checked_in(city, guest, poster, BEGUN)
    assert checked_in(city, guest, poster, BEGUN + timedelta(seconds=10)) == first
    assert checked_in(city, guest, poster, BEGUN + AGAIN - MOMENT) == first  # the next minute


def test_a_tap_60_s_after_the_visit_began_is_a_visit_of_its_own(
    city: City, people: CitizenFactory, poster: str
) -> None:
    guest = people.register("住客")
    first = checked_in(city, guest, poster, BEGUN)
    second = checked_in(city, guest, poster, BEGUN + AGAIN)
    assert second != first
    assert checked_in(city, guest, poster, BEGUN + AGAIN + AGAIN - MOMENT) == second


def test_each_citizen_and_each_place_is_a_visit_of_its_own(
    city: City, people: CitizenFactory, poster: str
) -> None:
    guest, friend = people.register("住客"), people.register("朋友")
    gate, _ = city.scans.place_code(HOTEL, "侧门")
    first = checked_in(city, guest, poster, BEGUN)
    assert checked_in(city, friend, poster, BEGUN) != first
    assert checked_in(city, guest, gate, BEGUN + MOMENT) != first
