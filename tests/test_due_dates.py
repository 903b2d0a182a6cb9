"""Working-day due dates and the 容缺 lapse at their exact edges (applications.md §4, §6).

An application accepted on a day is due the N-th working day after it, counted in the city's
time zone over the shipped calendar; it is overdue from the first moment after its due day
(00:00 in Beijing, 16:00 UTC the day before). A material accepted as missing is owed within
10 working days: the acceptance lapses from the first moment after that day, not before."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from mycity.bootstrap import City
from mycity.domain.application import Application
from mycity.domain.application_status import Status
from mycity.domain.errors import ErrorCode
from mycity.usecases.applications import SHORTFALL_WORKING_DAYS
from tests.domain_helpers import fact, given, refused, then
from tests.helpers import CitizenFactory, Person
from tests.services import AMR, ESTABLISHMENT, PDF, documents, settle, upload, with_credit

BEIJING = ZoneInfo("Asia/Shanghai")
LAST_MOMENT = time(23, 59, 59, 999999)  # of a day: the clock's last step before midnight
OWED = "officer_appointments"  # AMR-001's one non-key material


def at(day: date, moment: time = time(10)) -> datetime:
    return datetime.combine(day, moment, BEIJING)


def submitted(city: City, people: CitizenFactory, *, short: bool = False) -> tuple[Person, UUID]:
    """An establishment (AMR-001, due in 3 working days) submitted; `short`: without its
    non-key material."""
    founder = people.register("时限", verified=True)
    given_materials = documents(city, founder, "AMR-001")
    if short:
        del given_materials[OWED]
    application = city.applications.submit(
        founder.principal, "AMR-001", ESTABLISHMENT, given_materials
    ).application
    return founder, application.id


def overdue(city: City, moment: datetime) -> list[UUID]:
    city.clock.stopped_at = moment
    return [row.id for row in city.reads.applications.overdue(AMR, 100, None)]


@pytest.mark.parametrize(
    ("accepted_at", "due"),
    [
        # Thursday's last moment counts Friday, the weekend skipped, Monday, Tuesday;
        (at(date(2026, 3, 12), LAST_MOMENT), date(2026, 3, 17)),
        # its next moment is Friday in Beijing (still Thursday 16:00 in UTC): a day later.
        (at(date(2026, 3, 13), time(0)), date(2026, 3, 18)),
        # Friday 18 September: Sunday the 20th is a make-up working day (国庆节) and counts.
        (at(date(2026, 9, 18)), date(2026, 9, 22)),
        # Friday 3 April: 清明节 runs Saturday to Monday, so Tuesday is the first day.
        (at(date(2026, 4, 3)), date(2026, 4, 9)),
        # Wednesday 30 September: National Day to the 7th, then Thursday, Friday, the make-up
        # Saturday the 10th.
        (at(date(2026, 9, 30)), date(2026, 10, 10)),
    ],
)
def test_an_accepted_application_is_due_and_then_overdue_to_the_moment(
    city: City, people: CitizenFactory, accepted_at: datetime, due: date
) -> None:
    _, application_id = submitted(city, people)
    city.clock.stopped_at = accepted_at
    city.applications.accept(AMR, application_id)
    assert city.applications.get(application_id).due == due.isoformat()
    settle(city)
    assert application_id not in overdue(city, at(due, LAST_MOMENT))
    assert application_id in overdue(city, at(due + timedelta(days=1), time(0)))


def test_an_approved_application_stays_overdue_and_a_completed_one_does_not(
    city: City, people: CitizenFactory
) -> None:
    _, application_id = submitted(city, people)
    city.clock.stopped_at = at(date(2026, 3, 13))
    city.applications.accept(AMR, application_id)
    late = at(date(2026, 3, 19), time(0))
    city.applications.approve(AMR, application_id)
    settle(city)
    assert application_id in overdue(city, late)
    city.applications.complete(AMR, application_id)
    settle(city)
    assert application_id not in overdue(city, late)


def owing(missing_due: date, *later: tuple[type, dict[str, str]]) -> Application:
    """An application accepted with AMR-001's non-key material owed until `missing_due`."""
    applicant = uuid4()
    return given(
        Application,
        fact(
            Application.Submitted,
            item="AMR-001",
            department="AMR",
            applicant=applicant,
            applicant_kind="CITIZEN",
            co_applicant=None,
            by=applicant,
            form=dict(ESTABLISHMENT),
            materials={},
            fee_fen=0,
            bundle=None,
            parts=[],
        ),
        fact(
            Application.Accepted,
            officer="officer-amr",
            found={},
            due="2026-03-18",
            missing=OWED,
            missing_due=missing_due.isoformat(),
        ),
        *later,
    )


def test_an_acceptance_lapses_the_day_after_its_material_was_due_not_on_it() -> None:
    owed = date(2026, 3, 27)
    on_the_day = owing(owed)
    assert not on_the_day.lapse(today=owed)
    assert then(on_the_day) == []
    the_day_after = owing(owed)
    assert the_day_after.lapse(today=owed + timedelta(days=1))
    assert then(the_day_after) == [("AcceptanceLapsed", {"material": OWED})]
    assert the_day_after.status == Status.LAPSED
    with refused(ErrorCode.ILLEGAL_TRANSITION):
        the_day_after.supply(material=OWED, reference="document:" + "0" * 64)
    with refused(ErrorCode.ILLEGAL_TRANSITION):
        the_day_after.approve(officer="officer-amr")


def test_a_material_supplied_in_time_never_lapses() -> None:
    supplied = owing(
        date(2026, 3, 27),
        fact(Application.MaterialSupplied, material=OWED, reference="document:" + "0" * 64),
    )
    assert not supplied.lapse(today=date(2027, 1, 1))
    assert then(supplied) == []
    supplied.approve(officer="officer-amr")
    assert [name for name, _ in then(supplied)] == ["Approved"]


def test_only_the_owed_material_is_taken_while_it_is_owed() -> None:
    file = owing(date(2026, 3, 27))
    with refused(ErrorCode.MATERIAL_MISSING, "material"):
        file.supply(material="premises_proof", reference="document:" + "0" * 64)
    with refused(ErrorCode.MATERIAL_MISSING):
        file.approve(officer="officer-amr")
    assert then(file) == []


def accepted_short_on(
    city: City, people: CitizenFactory, accepted_at: datetime
) -> tuple[Person, UUID, date]:
    """Accepted on credit without its non-key material; when the material is owed."""
    founder, application_id = submitted(city, people, short=True)
    city.clock.stopped_at = accepted_at
    with_credit(city, founder.id).accept(AMR, application_id)
    owed = city.applications.get(application_id).missing_due
    return founder, application_id, date.fromisoformat(owed)


def swept(city: City, moment: datetime) -> int:
    settle(city)
    city.clock.stopped_at = moment
    return city.lapses.sweep()


def test_the_material_is_owed_ten_working_days_after_acceptance_in_beijing(
    city: City, people: CitizenFactory
) -> None:
    assert SHORTFALL_WORKING_DAYS == 10
    # Friday 13 March at 00:00 in Beijing (Thursday in UTC): two working weeks on.
    _, _, owed = accepted_short_on(city, people, at(date(2026, 3, 13), time(0)))
    assert owed == date(2026, 3, 27)
    # The 18th of September: the make-up Sunday counts, National Day does not.
    _, _, owed = accepted_short_on(city, people, at(date(2026, 9, 18)))
    assert owed == date(2026, 10, 9)


def test_the_sweep_lapses_an_acceptance_at_the_first_moment_after_its_material_was_due(
    city: City, people: CitizenFactory
) -> None:
    _, application_id, owed = accepted_short_on(city, people, at(date(2026, 3, 13)))
    assert swept(city, at(owed, LAST_MOMENT)) == 0
    assert city.applications.get(application_id).status == Status.ACCEPTED
    first_moment_after = at(owed + timedelta(days=1), time(0))
    assert first_moment_after.astimezone(UTC).date() == owed  # still that day in UTC
    assert swept(city, first_moment_after) == 1
    assert city.applications.get(application_id).status == Status.LAPSED
    assert swept(city, first_moment_after) == 0  # lapsed once


def test_a_material_supplied_at_the_last_moment_keeps_the_acceptance(
    city: City, people: CitizenFactory
) -> None:
    founder, application_id, owed = accepted_short_on(city, people, at(date(2026, 3, 13)))
    settle(city)  # the sweep's list still names it when the material comes
    city.clock.stopped_at = at(owed, LAST_MOMENT)
    city.applications.resubmit(
        founder.principal, application_id, None, {OWED: upload(city, founder, PDF + b"late")}
    )
    city.clock.stopped_at = at(owed + timedelta(days=1), time(0))
    assert city.lapses.sweep() == 0  # the file decides again, whatever the list said
    city.applications.approve(AMR, application_id)
    assert city.applications.get(application_id).status == Status.APPROVED
