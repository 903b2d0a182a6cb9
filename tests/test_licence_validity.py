"""A licence's validity days and a presentation's life at their exact edges, through the
server (licences.md §4, §5, §7): a licence is valid from 00:00 Beijing time on `valid_from`
to the end of `valid_until` (`valid_from` plus the type's years), so it is valid on its last
day and expired from the first moment after it, which is still that day in UTC. The wallet,
the holder's presentation, a partner's verification and the no-certificate city all agree."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from mycity.bootstrap import City
from mycity.domain.errors import ErrorCode
from mycity.domain.licence import Licence, LicenceStatus
from mycity.usecases.licences import MAX_LIFETIME
from mycity.verifier.licence import Reason
from tests.domain_helpers import refused
from tests.helpers import CitizenFactory, Person
from tests.services import HOTEL, WHY_SHOWN, documents, residence_permit, settle

BEIJING = ZoneInfo("Asia/Shanghai")
LAST_MOMENT = time(23, 59, 59, 999999)


def at(day: date, moment: time = time(10)) -> datetime:
    return datetime.combine(day, moment, BEIJING)


def permit_approved_at(city: City, person: Person, moment: datetime) -> Licence:
    """A residence permit (PSB-002, valid 1 year), approved and issued at this moment."""
    city.clock.stopped_at = moment  # the issuance process runs on the same stopped clock
    return residence_permit(city, person)


def wallet_status(city: City, person: Person, moment: datetime) -> LicenceStatus:
    city.clock.stopped_at = moment
    [held] = city.reads.licences.wallet(person.principal, None, 10, None)
    return held.status


def verified_at(city: City, person: Person, licence: Licence, moment: datetime) -> Reason:
    """A presentation made and checked by a hotel at this moment."""
    city.clock.stopped_at = moment
    shown = city.licences.present(person.principal, licence.id, ["holder_name"])
    return city.reads.licences.verify(HOTEL, shown.payload, WHY_SHOWN).reason


@pytest.fixture
def holder(people: CitizenFactory) -> Person:
    return people.register("持证", verified=True)


def test_a_licence_approved_just_after_midnight_in_beijing_starts_that_day(
    city: City, holder: Person
) -> None:
    midnight = at(date(2026, 3, 10), time(0))  # 16:00 on the 9th in UTC
    licence = permit_approved_at(city, holder, midnight)
    assert (licence.valid_from, licence.valid_until) == ("2026-03-10", "2027-03-10")
    assert midnight.astimezone(UTC).date() == date(2026, 3, 9)


def test_a_licence_is_valid_on_its_last_day_and_expired_from_the_next_moment(
    city: City, holder: Person
) -> None:
    licence = permit_approved_at(city, holder, at(date(2026, 3, 10)))
    last_day = date.fromisoformat(licence.valid_until)
    last, after = at(last_day, LAST_MOMENT), at(last_day + timedelta(days=1), time(0))
    assert after.astimezone(UTC).date() == last_day  # in UTC it is still the last day

    assert wallet_status(city, holder, last) is LicenceStatus.VALID
    assert verified_at(city, holder, licence, last) is Reason.VALID
    city.clock.stopped_at = last
    shown = city.licences.present(holder.principal, licence.id, ["holder_name"])

    assert wallet_status(city, holder, after) is LicenceStatus.EXPIRED
    with refused(ErrorCode.LICENCE_NOT_VALID):
        city.licences.present(holder.principal, licence.id, ["holder_name"])
    # shown a moment before midnight, checked a moment after: the licence has expired
    assert city.reads.licences.verify(HOTEL, shown.payload, WHY_SHOWN).reason is (
        Reason.LICENCE_EXPIRED
    )


def test_a_licence_begun_on_29_february_ends_on_28_february(city: City, holder: Person) -> None:
    licence = permit_approved_at(city, holder, at(date(2028, 2, 29)))
    assert (licence.valid_from, licence.valid_until) == ("2028-02-29", "2029-02-28")
    assert wallet_status(city, holder, at(date(2029, 2, 28), LAST_MOMENT)) is LicenceStatus.VALID
    assert wallet_status(city, holder, at(date(2029, 3, 1), time(0))) is LicenceStatus.EXPIRED


def test_a_held_licence_stands_in_for_a_material_up_to_its_last_day(
    city: City, holder: Person
) -> None:
    """PSB-003 (endorsing the permit) asks for the permit as a key material: the wallet
    gives it while it is valid, and nothing gives it after."""
    licence = permit_approved_at(city, holder, at(date(2026, 3, 10)))
    last_day = date.fromisoformat(licence.valid_until)
    form = {"address": "常德市武陵区朗州路9号"}
    settle(city)
    city.clock.stopped_at = at(last_day, LAST_MOMENT)
    endorsed = city.applications.submit(
        holder.principal, "PSB-003", form, documents(city, holder, "PSB-003")
    ).application
    assert endorsed.materials["residence_permit"] == f"licence:{licence.identifier}"
    city.clock.stopped_at = at(last_day + timedelta(days=1), time(0))
    with refused(ErrorCode.MATERIAL_MISSING, "materials"):
        city.applications.submit(
            holder.principal, "PSB-003", form, documents(city, holder, "PSB-003")
        )
    with refused(ErrorCode.LICENCE_NOT_HELD, "materials.residence_permit"):
        city.applications.submit(
            holder.principal,
            "PSB-003",
            form,
            documents(city, holder, "PSB-003")
            | {"residence_permit": f"licence:{licence.identifier}"},
        )


def test_a_presentation_lives_1_to_300_seconds_and_verifies_up_to_its_end_and_skew(
    city: City, holder: Person
) -> None:
    licence = permit_approved_at(city, holder, at(date(2026, 3, 10)))
    city.clock.stopped_at = shown_at = at(date(2026, 3, 11))
    for lifetime in (0, MAX_LIFETIME + 1):
        with refused(ErrorCode.INVALID_ARGUMENT, "lifetime"):
            city.licences.present(holder.principal, licence.id, ["holder_name"], lifetime)
    assert MAX_LIFETIME == 300
    skew = timedelta(seconds=30)
    for lifetime in (1, MAX_LIFETIME):
        end = shown_at + timedelta(seconds=lifetime) + skew
        for moment, reason in (
            (end, Reason.VALID),
            (end + timedelta(microseconds=1), Reason.EXPIRED),
        ):
            city.clock.stopped_at = shown_at
            shown = city.licences.present(holder.principal, licence.id, ["holder_name"], lifetime)
            assert shown.expires_at == int(shown_at.timestamp()) + lifetime
            city.clock.stopped_at = moment
            verdict = city.reads.licences.verify(HOTEL, shown.payload, WHY_SHOWN)
            assert verdict.reason is reason, (lifetime, moment)
