"""The read models of applications and e-licences, driven by real events through the store."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from mycity.bootstrap import City
from mycity.domain.application import Application
from mycity.domain.application_status import Grade, Status
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.licence import (
    Licence,
    LicenceStatus,
    LicenceUse,
    licence_file_id,
    licence_use_id,
)
from mycity.projections.application_list import ApplicationLists
from mycity.projections.licence_uses import LicenceUses
from mycity.projections.ratings import RatingStatistics, RatingStats
from mycity.projections.wallet import Wallets

DEPT = "民政局"
TODAY = date(2030, 2, 15)
NAMES = ("application_list", "rating_statistics", "wallet", "licence_uses")


def submit(
    city: City,
    *,
    department: str = DEPT,
    applicant: UUID | None = None,
    co_applicant: UUID | None = None,
    item: str = "marriage-registration",
) -> Application:
    applicant = applicant or uuid4()
    application = Application(  # type: ignore[call-arg]  # eventsourcing takes the id
        id=uuid4(),
        item=item,
        department=department,
        applicant=applicant,
        applicant_kind="CITIZEN",
        co_applicant=co_applicant,
        by=applicant,
        form={"name": "张三丰"},
        materials={},
        fee_fen=1000,
        bundle=None,
        parts=[],
    )
    city.files.commit(application)
    return application


def accepted(city: City, due: date, **kwargs: Any) -> Application:
    application = submit(city, **kwargs)
    application.accept(officer="o-1", found={}, due=due)
    city.files.commit(application)
    return application


def completed(city: City, department: str, grade: Grade | None = None) -> Application:
    application = submit(city, department=department)
    application.accept(officer="o-1", found={}, due=date(2030, 1, 1))
    application.approve(officer="o-1")
    application.complete(by="o-1", fee_paid=True, licensing=False)
    if grade:
        application.rate(grade=grade, comment="好")
    city.files.commit(application)
    return application


def issue(
    city: City,
    holder: UUID,
    *,
    type_code: str = "MARRIAGE",
    issuer: str = DEPT,
    valid_until: str = "",
    status_index: int = 0,
    fields: dict[str, str] | None = None,
) -> Licence:
    application = uuid4()
    licence = Licence(  # type: ignore[call-arg]  # eventsourcing takes the id (`id: UUID`)
        id=licence_file_id(application, holder),
        identifier=f"L-{status_index}",
        type_code=type_code,
        type_name="结婚证",
        issuer=issuer,
        holder=holder,
        holder_kind="CITIZEN",
        application=application,
        fields=fields or {"name": "李秘密", "number": "SECRET-123"},
        salts={"name": "00", "number": "11"},
        valid_from="2020-01-01",
        valid_until=valid_until,
        status_index=status_index,
        credential="signed-digests",
    )
    city.files.commit(licence)
    return licence


def ids(rows: list[Any]) -> list[UUID]:
    return [row.id for row in rows]


def stored(city: City, name: str) -> list[dict[str, Any]]:
    with city.db.transaction(commit=False) as cur:
        return [dict(r) for r in cur.execute(f"SELECT * FROM {city.db.table(name)}").fetchall()]


@pytest.fixture
def lists(city: City) -> ApplicationLists:
    return ApplicationLists(city.read_models.rows("application_list"))


@pytest.fixture
def wallets(city: City) -> Wallets:
    return Wallets(city.read_models.rows("wallet"))


# -- application_list ---------------------------------------------------------------------


def test_a_row_follows_the_application_through_its_lifecycle(
    city: City, lists: ApplicationLists
) -> None:
    application = submit(city)
    city.read_models.catch_up()
    row = lists.get(application.id)
    assert row is not None
    assert (row.status, row.due, row.grade, row.follow_up_open) == (
        Status.SUBMITTED,
        None,
        None,
        False,
    )
    assert (row.applicant, row.department, row.fee_fen, row.version) == (
        application.applicant,
        DEPT,
        1000,
        1,
    )
    assert "张三丰" not in json.dumps(stored(city, "application_list"), ensure_ascii=False)

    seen = []
    commands: tuple[Callable[[], None], ...] = (
        lambda: application.accept(officer="o", found={}, due=date(2030, 3, 1)),
        lambda: application.approve(officer="o"),
        lambda: application.record_issue(licences=[uuid4()], enterprise=None),
        lambda: application.complete(by="o", fee_paid=True, licensing=True),
        lambda: application.rate(grade=Grade.VERY_DISSATISFIED, comment="慢"),
        lambda: application.close_follow_up(officer="o", note="已回访"),
    )
    for command in commands:
        command()
        city.files.commit(application)
        city.read_models.catch_up()
        row = lists.get(application.id)
        assert row is not None and row.version == application.version
        seen.append((row.status, row.grade, row.follow_up_open))
    assert row.due == date(2030, 3, 1) and row.updated_at > row.submitted_at
    assert seen == [
        (Status.ACCEPTED, None, False),
        (Status.APPROVED, None, False),
        (Status.APPROVED, None, False),
        (Status.COMPLETED, None, False),
        (Status.COMPLETED, Grade.VERY_DISSATISFIED, True),
        (Status.COMPLETED, Grade.VERY_DISSATISFIED, False),
    ]


def test_joint_corrected_withdrawn_and_rejected_applications(
    city: City, lists: ApplicationLists
) -> None:
    partner = uuid4()
    joint = submit(city, co_applicant=partner)
    corrected = submit(city)
    corrected.request_correction(officer="o", reason="缺照片", materials=["photo"])
    withdrawn = submit(city)
    withdrawn.withdraw(by=withdrawn.applicant, reason="不办了")
    rejected = submit(city)
    rejected.reject(officer="o", reason="不符合条件")
    city.files.commit(corrected, withdrawn, rejected)
    city.read_models.catch_up()

    def status(application: Application) -> Status:
        row = lists.get(application.id)
        assert row is not None
        return row.status

    assert status(joint) == Status.AWAITING_CONFIRMATION
    assert status(corrected) == Status.CORRECTION_REQUESTED
    assert (status(withdrawn), status(rejected)) == (Status.WITHDRAWN, Status.REJECTED)
    assert lists.get(joint.id).co_applicant == partner  # type: ignore[union-attr]

    joint.confirm(co_applicant=partner)
    corrected.resubmit(form={"name": "张三丰"}, materials={"photo": "document:ab"})
    city.files.commit(joint, corrected)
    city.read_models.catch_up()
    assert (status(joint), status(corrected)) == (Status.SUBMITTED, Status.SUBMITTED)
    assert lists.get(uuid4()) is None


def test_mine_lists_applied_and_co_applied_newest_first_in_pages(
    city: City, lists: ApplicationLists
) -> None:
    me, my_enterprise, someone = uuid4(), uuid4(), uuid4()
    mine = [
        submit(city, applicant=me),
        submit(city, applicant=someone, co_applicant=me),
        submit(city, applicant=my_enterprise),
        submit(city, applicant=me),
    ]
    submit(city, applicant=someone)
    city.read_models.catch_up()

    newest_first = [a.id for a in reversed(mine)]
    assert ids(lists.mine([me, my_enterprise], 10, None)) == newest_first
    assert ids(lists.mine([me], 10, None)) == [mine[3].id, mine[1].id, mine[0].id]
    first = lists.mine([me, my_enterprise], 3, None)
    rest = lists.mine([me, my_enterprise], 3, first[-1].mine_cursor)
    assert ids(first) + ids(rest) == newest_first
    assert lists.mine([], 10, None) == []
    with pytest.raises(UserError) as refused:
        lists.mine([me], 10, "not-a-cursor")
    assert refused.value.code == ErrorCode.INVALID_ARGUMENT


def test_the_queue_is_open_applications_by_due_date_unaccepted_first(
    city: City, lists: ApplicationLists
) -> None:
    waiting = submit(city)
    later = accepted(city, date(2030, 3, 1))
    sooner = accepted(city, date(2030, 2, 1))
    correcting = submit(city)
    correcting.request_correction(officer="o", reason="缺照片", materials=["photo"])
    soonest = accepted(city, date(2030, 1, 15))
    soonest.approve(officer="o")
    closed = accepted(city, date(2030, 1, 1))
    closed.reject(officer="o", reason="不符合条件")
    city.files.commit(correcting, soonest, closed)
    submit(city, co_applicant=uuid4())  # awaiting the co-applicant: not the department's turn
    accepted(city, date(2030, 1, 1), department="公安局")  # another department's
    city.read_models.catch_up()

    expected = [waiting.id, correcting.id, soonest.id, sooner.id, later.id]
    assert ids(lists.queue(DEPT, 10, None)) == expected
    page = lists.queue(DEPT, 2, None)
    pages = ids(page)
    while page:
        page = lists.queue(DEPT, 2, page[-1].queue_cursor)
        pages += ids(page)
    assert pages == expected
    assert lists.queue("无此部门", 10, None) == []


def test_overdue_is_running_applications_past_their_due_date(
    city: City, lists: ApplicationLists
) -> None:
    first = accepted(city, date(2030, 1, 15))
    first.approve(officer="o")
    city.files.commit(first)
    second = accepted(city, date(2030, 2, 1))
    accepted(city, TODAY)  # due today: not yet overdue
    accepted(city, date(2030, 3, 1))
    done = accepted(city, date(2030, 1, 1))
    done.approve(officer="o")
    done.complete(by="o", fee_paid=True, licensing=False)
    city.files.commit(done)
    submit(city)  # no due date yet
    accepted(city, date(2030, 1, 1), department="公安局")
    city.read_models.catch_up()

    assert ids(lists.overdue(DEPT, TODAY, 10, None)) == [first.id, second.id]
    page = lists.overdue(DEPT, TODAY, 1, None)
    assert ids(lists.overdue(DEPT, TODAY, 1, page[0].queue_cursor)) == [second.id]
    assert lists.overdue(DEPT, date(2030, 1, 15), 10, None) == []


def test_lapsing_lists_accepted_applications_whose_missing_material_is_late(
    city: City, lists: ApplicationLists
) -> None:
    owing = submit(city)
    owing.accept(officer="o", found={}, due=TODAY, missing="photo", missing_due=date(2030, 1, 5))
    supplied = submit(city)
    supplied.accept(officer="o", found={}, due=TODAY, missing="photo", missing_due=date(2030, 1, 5))
    supplied.supply(material="photo", reference="document:ab")
    accepted(city, date(2030, 1, 1))  # owes nothing
    city.files.commit(owing, supplied)
    city.read_models.catch_up()

    assert lists.lapsing(date(2030, 1, 5), 10) == []
    assert lists.lapsing(date(2030, 1, 6), 10) == [owing.id]
    row = lists.get(supplied.id)
    assert row is not None and (row.missing, row.missing_due) == ("", None)
    row = lists.get(owing.id)
    assert row is not None and (row.missing, row.missing_due) == ("photo", date(2030, 1, 5))

    assert owing.lapse(today=date(2030, 1, 6))
    city.files.commit(owing)
    city.read_models.catch_up()
    assert lists.lapsing(date(2030, 1, 6), 10) == []
    assert lists.get(owing.id).status == Status.LAPSED  # type: ignore[union-attr]


# -- rating_statistics --------------------------------------------------------------------


def test_ratings_are_counted_per_department_with_their_follow_ups(city: City) -> None:
    completed(city, DEPT, Grade.VERY_SATISFIED)
    completed(city, DEPT, Grade.VERY_SATISFIED)
    completed(city, DEPT, Grade.DISSATISFIED)
    followed_up = completed(city, DEPT, Grade.VERY_DISSATISFIED)
    followed_up.close_follow_up(officer="o", note="已回访")
    city.files.commit(followed_up)
    completed(city, DEPT)  # not rated yet
    submit(city)
    completed(city, "公安局", Grade.SATISFIED)
    city.read_models.catch_up()

    statistics = RatingStatistics(city.read_models.rows("rating_statistics"))
    mine = statistics.of(DEPT)
    assert mine == RatingStats(
        DEPT,
        very_satisfied=2,
        dissatisfied=1,
        very_dissatisfied=1,
        total=4,
        follow_ups_open=1,
        follow_ups_closed=1,
    )
    assert mine.count(Grade.VERY_SATISFIED) == 2 and mine.count(Grade.SATISFIED) == 0
    assert statistics.of("无此部门") == RatingStats("无此部门")
    assert statistics.all() == [RatingStats("公安局", satisfied=1, total=1), mine]


# -- wallet -------------------------------------------------------------------------------


def test_the_wallet_seals_the_fields_under_the_holder_and_loses_them_when_shredded(
    city: City, wallets: Wallets
) -> None:
    holder = uuid4()
    licence = issue(city, holder, status_index=7)
    city.read_models.catch_up()

    [found] = wallets.of(holder, 10, None, TODAY)
    assert found.id == licence.id and found.holder == holder
    assert found.fields == {"name": "李秘密", "number": "SECRET-123"}
    assert (found.status, found.valid_until, found.valid_from) == (
        LicenceStatus.VALID,
        None,
        date(2020, 1, 1),
    )
    [row] = stored(city, "wallet")
    assert (
        row["sealed"] and "SECRET-123" not in row["sealed"]
    )  # sealed with its row's other personal values
    assert "李秘密" not in json.dumps(row, ensure_ascii=False, default=str)

    city.files.vault.shred(holder)
    gone = wallets.get(licence.id, TODAY)
    assert gone is not None and gone.fields is None and gone.identifier == "L-7"
    licence.revoke(officer="o", reason="注销登记")  # a change after the erasure folds too
    city.files.commit(licence)
    city.read_models.catch_up()
    gone = wallets.get(licence.id, TODAY)
    assert gone is not None and (gone.fields, gone.status) == (None, LicenceStatus.REVOKED)
    city.read_models.rebuild("wallet")
    assert wallets.get(licence.id, TODAY) == gone
    assert wallets.flagged(DEPT) == ([7], [])


def test_the_status_is_derived_for_the_day_asked_about(city: City, wallets: Wallets) -> None:
    holder = uuid4()
    expiring = issue(city, holder, valid_until="2030-02-15", status_index=1)
    suspended = issue(city, holder, status_index=2)
    suspended.suspend(officer="o", reason="调查中")
    revoked = issue(city, holder, status_index=3)
    revoked.suspend(officer="o", reason="调查中")
    revoked.revoke(officer="o", reason="注销登记")
    reinstated = issue(city, holder, status_index=4)
    reinstated.suspend(officer="o", reason="调查中")
    reinstated.reinstate(officer="o", reason="已澄清")
    city.files.commit(suspended, revoked, reinstated)
    elsewhere = issue(city, uuid4(), issuer="公安局", status_index=3)
    elsewhere.revoke(officer="o", reason="注销登记")
    city.files.commit(elsewhere)
    city.read_models.catch_up()

    def statuses(today: date) -> dict[UUID, LicenceStatus]:
        return {w.id: w.status for w in wallets.of(holder, 10, None, today)}

    assert statuses(TODAY) == {
        expiring.id: LicenceStatus.VALID,  # valid through its last day
        suspended.id: LicenceStatus.SUSPENDED,
        revoked.id: LicenceStatus.REVOKED,
        reinstated.id: LicenceStatus.VALID,
    }
    assert statuses(date(2030, 2, 16))[expiring.id] == LicenceStatus.EXPIRED
    assert wallets.flagged(DEPT) == ([3], [2])
    assert wallets.flagged("无此部门") == ([], [])


def test_held_is_the_valid_licences_of_a_type_and_the_wallet_pages_newest_first(
    city: City, wallets: Wallets
) -> None:
    holder = uuid4()
    old = issue(city, holder, valid_until="2030-01-31")
    current = issue(city, holder, valid_until="2031-01-01")
    forever = issue(city, holder)
    suspended = issue(city, holder)
    suspended.suspend(officer="o", reason="调查中")
    city.files.commit(suspended)
    other_type = issue(city, holder, type_code="DRIVING")
    issue(city, uuid4())  # someone else's
    city.read_models.catch_up()

    assert ids(wallets.held(holder, "MARRIAGE", TODAY)) == [forever.id, current.id]
    assert {w.status for w in wallets.held(holder, "MARRIAGE", TODAY)} == {LicenceStatus.VALID}
    assert ids(wallets.held(holder, "DRIVING", TODAY)) == [other_type.id]
    everything = [other_type.id, suspended.id, forever.id, current.id, old.id]
    page = wallets.of(holder, 2, None, TODAY)
    pages = ids(page)
    while page:
        page = wallets.of(holder, 2, page[-1].cursor, TODAY)
        pages += ids(page)
    assert pages == everything
    assert wallets.get(uuid4(), TODAY) is None


# -- licence_uses -------------------------------------------------------------------------


def test_licence_uses_list_per_holder_and_per_licence_newest_first(city: City) -> None:
    holder = uuid4()
    licences = [uuid4(), uuid4()]

    def use(licence: UUID, purpose: str, who: UUID = holder) -> LicenceUse:
        recorded = LicenceUse(  # type: ignore[call-arg]
            id=licence_use_id(secrets.token_bytes(16)),
            licence=licence,
            holder=who,
            verifier="hotel-1",
            verifier_role="VENUE",
            verifier_name="星级酒店",
            purpose=purpose,
            fields=["name"],
        )
        city.files.commit(recorded)
        return recorded

    first = use(licences[0], "入住登记")
    second = use(licences[1], "入住登记")
    third = use(licences[0], "复核")
    use(uuid4(), "入住登记", who=uuid4())
    city.read_models.catch_up()

    uses = LicenceUses(city.read_models.rows("licence_uses"))
    assert ids(uses.of(holder, 10, None)) == [third.id, second.id, first.id]
    page = uses.of(holder, 2, None)
    assert ids(uses.of(holder, 2, page[-1].cursor)) == [first.id]
    assert ids(uses.of_licence(licences[0], 10, None)) == [third.id, first.id]
    [latest] = uses.of_licence(licences[0], 1, None)
    assert (latest.licence, latest.holder, latest.verifier_name, latest.fields) == (
        licences[0],
        holder,
        "星级酒店",
        ("name",),
    )
    assert latest.purpose == "复核" and latest.used_at.tzinfo is not None


# -- all four -----------------------------------------------------------------------------


def test_a_rebuild_equals_the_live_rows(city: City) -> None:
    completed(city, DEPT, Grade.BASICALLY_SATISFIED)
    submit(city, co_applicant=uuid4())
    accepted(city, date(2030, 1, 1))
    holder = uuid4()
    licence = issue(city, holder)
    licence.suspend(officer="o", reason="调查中")
    city.files.commit(
        licence,
        LicenceUse(  # type: ignore[call-arg]
            id=licence_use_id(secrets.token_bytes(16)),
            licence=uuid4(),
            holder=holder,
            verifier="v",
            verifier_role="VENUE",
            verifier_name="n",
            purpose="p",
            fields=[],
        ),
    )
    city.read_models.catch_up()

    def rows(name: str) -> list[dict[str, Any]]:
        live = city.read_models.rows(name)
        return live.select(f"ORDER BY {live.spec.key}", [])

    live = {name: rows(name) for name in NAMES}
    assert all(live.values())
    for name in NAMES:
        city.read_models.rebuild(name)
        assert rows(name) == live[name]
