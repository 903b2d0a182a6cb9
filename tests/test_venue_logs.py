"""A partner's log of its scans shows of each scan no more than that scan told it
(issue: partners learned more from their logs than from their scans): a gate was told
whether it opened, a hospital or a library a card number, a shop or a venue the colour,
a check-in nothing. The access record says what the log showed."""

from __future__ import annotations

import pytest

from mycity.bootstrap import City
from mycity.identity.principal import Principal, Role
from mycity.verifier.city_code import Purpose
from tests.helpers import CitizenFactory, Person, access_records
from tests.services import GATE, HOTEL, settle

HOSPITAL = Principal("hospital-test", Role.HOSPITAL, None, "测试医院")
LIBRARY = Principal("library-test", Role.LIBRARY, None, "测试图书馆")
SHOP = Principal("shop-test", Role.MERCHANT, None, "测试商店")
WHY = "counting the day's visitors"

# Each partner, the purpose it scans for, and whether its log shows the colour.
PARTNERS = [
    (GATE, Purpose.TRANSIT, False),
    (HOSPITAL, Purpose.HEALTH, False),
    (LIBRARY, Purpose.IDENTITY, False),
    (SHOP, Purpose.HEALTH, True),
    (HOTEL, Purpose.HEALTH, True),
]


@pytest.fixture
def visitor(city: City, people: CitizenFactory) -> Person:
    return people.register("访客")


@pytest.mark.parametrize(
    ("partner", "purpose", "colour"), PARTNERS, ids=[p[0].role.value for p in PARTNERS]
)
def test_a_partners_log_shows_the_colour_only_where_its_scan_told_it(
    city: City, visitor: Person, partner: Principal, purpose: Purpose, colour: bool
) -> None:
    code = city.city_codes.issue(visitor.principal).payload
    answer = city.scans.scan(partner, code, purpose, "一号口")
    assert answer.told is not None and (answer.told.colour is not None) is colour
    settle(city)
    [logged] = city.reads.scans.at_venue(partner, 20, None, WHY)
    assert logged.scan.colour == ("GREEN" if colour else None)
    assert logged.scan.place == "一号口" and logged.scan.purpose == purpose.name
    record = access_records(city)[-1]
    assert record.read == "city_code.venue_scans" and record.purpose == WHY
    shown = {"citizen", "place", "purpose", "scanned_at"} | ({"colour"} if colour else set())
    assert set(record.fields) == shown


def test_a_check_in_tells_the_venue_nothing_of_the_person(city: City, visitor: Person) -> None:
    city.clients.add(HOTEL.subject, HOTEL.role, HOTEL.name)
    poster, _ = city.scans.place_code(HOTEL, "大堂")
    city.scans.check_in(visitor.principal, poster)
    code = city.city_codes.issue(visitor.principal).payload
    city.scans.scan(HOTEL, code, Purpose.HEALTH, "前台")
    settle(city)
    at_desk, checked_in = city.reads.scans.at_venue(HOTEL, 20, None, WHY)  # newest first
    assert (checked_in.scan.place, checked_in.scan.colour) == ("大堂", None)
    assert (at_desk.scan.place, at_desk.scan.colour) == ("前台", "GREEN")
    assert "colour" in access_records(city)[-1].fields  # one of the two showed it
