"""Each benefit of a credit tier granted and withheld across a tier change, through the real
flows and decided from the score when asked: 容缺受理 accepted, then refused once the
applicant falls to restricted (and accepted again once they climb back); riding now and
paying later, then paying at the gate; a library told a citizen borrows deposit-free, then
not; and no other partner ever told."""

from __future__ import annotations

from uuid import UUID

from mycity.bootstrap import City
from mycity.domain.credit import Severity
from mycity.domain.errors import ErrorCode
from mycity.identity.principal import Principal, Role
from mycity.verifier.city_code import Purpose
from tests.domain_helpers import refused
from tests.helpers import CitizenFactory, Person
from tests.payments_helpers import LocalProvider, funded
from tests.services import PSB, documents
from tests.test_fares import BUS, tap

MARKET = Principal("feed-amr", Role.AUTHORITY_FEED, "AMR", "市场监管局")
LIBRARY = Principal("library-test", Role.LIBRARY, None, "测试图书馆")
HOSPITAL = Principal("hospital-test", Role.HOSPITAL, None, "测试医院")
LIBRARY_FEED = Principal("feed-library", Role.AUTHORITY_FEED, "LIBRARY", "图书馆")
PERMIT_FORM = {"address": "常德市武陵区朗州路9号", "resident_since": "2020-01-01"}


def moved(city: City, person: Person, delta: int, number: str) -> None:
    """The market authority's feed moves the person's score."""
    severity = Severity.SERIOUS if delta < 0 else None
    reason = "R_DOWN" if delta < 0 else "R_UP"
    city.credits.record_change(MARKET, person.id_number, None, delta, reason, number, severity)


def without_photo(city: City, person: Person) -> UUID:
    """A residence permit applied for with its one non-key material (the photo) missing."""
    given = {k: v for k, v in documents(city, person, "PSB-002").items() if k != "photo"}
    return city.applications.submit(person.principal, "PSB-002", PERMIT_FORM, given).application.id


def test_shortfall_acceptance_follows_the_applicants_tier_when_the_officer_accepts(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("容缺", verified=True)
    first, second, third = (without_photo(city, person) for _ in range(3))
    city.applications.accept(PSB, first)  # 600: good
    assert city.applications.get(first).missing == "photo"
    moved(city, person, -51, "降1")  # 549: restricted
    with refused(ErrorCode.SHORTFALL_NOT_ALLOWED):
        city.applications.accept(PSB, second)
    moved(city, person, 50, "升1")  # 599: normal, still refused
    with refused(ErrorCode.SHORTFALL_NOT_ALLOWED):
        city.applications.accept(PSB, second)
    moved(city, person, 1, "升2")  # 600: good again
    city.applications.accept(PSB, second)
    moved(city, person, -1, "降2")
    with refused(ErrorCode.SHORTFALL_NOT_ALLOWED):
        city.applications.accept(PSB, third)


def test_riding_now_paying_later_then_at_the_gate_once_restricted(
    paying: City, provider: LocalProvider
) -> None:
    person = funded(CitizenFactory(paying), provider, 10_000, "乘客")
    assert tap(paying, BUS, person) == [(200, 200, "DEFERRED")]  # 600: good
    moved(paying, person, -1, "降3")  # 599: normal
    assert tap(paying, BUS, person) == [(200, 200, "PAID")]
    assert provider.balance("transit:CDBUS") == 200
    moved(paying, person, 1, "升3")
    assert tap(paying, BUS, person) == [(200, 200, "DEFERRED")]


def test_a_library_is_told_deposit_free_for_excellent_only_and_nothing_of_the_score(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("借书")
    city.health.link_card(LIBRARY_FEED, person.id_number, "LIBRARY", "LIB-0042")

    def told() -> tuple[object, ...]:
        payload = city.city_codes.issue(person.principal).payload
        answer = city.scans.scan(LIBRARY, payload, Purpose.IDENTITY, "借还台")
        return (answer.told.card_number, answer.told.deposit_free, answer.told.colour)

    assert told() == ("LIB-0042", False, None)  # 600: good
    moved(city, person, 99, "升4")  # 699
    assert told() == ("LIB-0042", False, None)
    moved(city, person, 1, "升5")  # 700: excellent
    assert told() == ("LIB-0042", True, None)
    hospital = city.scans.scan(
        HOSPITAL, city.city_codes.issue(person.principal).payload, Purpose.IDENTITY, "门诊"
    )
    assert hospital.told.deposit_free is None  # a hospital is never told
    moved(city, person, -1, "降4")
    assert told() == ("LIB-0042", False, None)
