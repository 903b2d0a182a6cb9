"""Applications from submission to rating, through the use cases and the processes that
follow the log (issuance, bundles), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from uuid import UUID

import pytest

from mycity.bootstrap import City
from mycity.domain.application_status import Status
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.identifiers import validate_credit_code
from mycity.domain.licence import Licence
from mycity.projections.subject_history import HistoryPage
from tests.helpers import AUDITOR, WHY, CitizenFactory, Person
from tests.services import (
    AMR,
    CAB,
    ESTABLISHMENT,
    PDF,
    PSB,
    documents,
    establish,
    officer,
    settle,
    upload,
    with_credit,
)


def test_establishment_registers_the_enterprise_and_issues_its_business_licence(
    city: City, people: CitizenFactory
) -> None:
    founder = people.register("创始人", verified=True)
    application, enterprise, licence = establish(city, founder)
    assert validate_credit_code(enterprise.credit_code) == enterprise.credit_code
    assert enterprise.legal_representative_id == founder.id
    assert enterprise.name == ESTABLISHMENT["enterprise_name"]
    assert (licence.holder, licence.type_code, licence.issuer) == (
        enterprise.id,
        "BUSINESS_LICENCE",
        "AMR",
    )
    assert licence.fields["credit_code"] == enterprise.credit_code
    assert licence.fields["legal_representative"] == "创始人"
    city.applications.complete(AMR, application.id)
    assert city.applications.get(application.id).status == Status.COMPLETED
    settle(city)
    wallet = city.reads.licences.wallet(founder.principal, enterprise.id, 10, None)
    assert [w.identifier for w in wallet] == [licence.identifier]


def test_two_establishments_get_two_credit_codes(city: City, people: CitizenFactory) -> None:
    first = establish(city, people.register("甲", verified=True))[1]
    second = establish(city, people.register("乙", verified=True))[1]
    assert first.credit_code != second.credit_code


def test_a_food_licence_uses_the_held_business_licence_without_asking(
    city: City, people: CitizenFactory
) -> None:
    founder = people.register("店主", verified=True)
    _, enterprise, business = establish(city, founder)
    settle(city)
    submitted = city.applications.submit(
        founder.principal,
        "AMR-002",
        {f: "一" for f in city.catalogue.item("AMR-002").form},
        documents(city, founder, "AMR-002"),
        enterprise_id=enterprise.id,
    )
    used = [v for v in submitted.application.materials.values() if v.startswith("licence:")]
    assert used == [f"licence:{business.identifier}"]


def test_a_food_licence_without_a_business_licence_is_refused(
    city: City, people: CitizenFactory
) -> None:
    founder = people.register("无照", verified=True)
    enterprise_id = people.enterprise(founder)
    with pytest.raises(UserError) as refused:
        city.applications.submit(
            founder.principal,
            "AMR-002",
            {f: "一" for f in city.catalogue.item("AMR-002").form},
            documents(city, founder, "AMR-002"),
            enterprise_id=enterprise_id,
        )
    assert refused.value.code is ErrorCode.MATERIAL_MISSING


def test_an_officer_of_another_department_is_refused(city: City, people: CitizenFactory) -> None:
    founder = people.register("他部门", verified=True)
    submitted = city.applications.submit(
        founder.principal, "AMR-001", ESTABLISHMENT, documents(city, founder, "AMR-001")
    )
    for action in (city.applications.accept, city.applications.approve):
        with pytest.raises(UserError) as refused:
            action(PSB, submitted.application.id)
        assert refused.value.code is ErrorCode.NOT_YOUR_DEPARTMENT


def test_illegal_transitions_are_typed(city: City, people: CitizenFactory) -> None:
    founder = people.register("乱序", verified=True)
    application_id = city.applications.submit(
        founder.principal, "AMR-001", ESTABLISHMENT, documents(city, founder, "AMR-001")
    ).application.id
    for action in (city.applications.approve, city.applications.complete):
        with pytest.raises(UserError) as refused:
            action(AMR, application_id)
        assert refused.value.code is ErrorCode.ILLEGAL_TRANSITION
    city.applications.withdraw(founder.principal, application_id, "不办了")
    with pytest.raises(UserError) as refused:
        city.applications.accept(AMR, application_id)
    assert refused.value.code is ErrorCode.ILLEGAL_TRANSITION


def test_correction_requested_then_resubmitted_then_rejected(
    city: City, people: CitizenFactory
) -> None:
    founder = people.register("补正", verified=True)
    application_id = city.applications.submit(
        founder.principal, "AMR-001", ESTABLISHMENT, documents(city, founder, "AMR-001")
    ).application.id
    city.applications.request_correction(
        AMR, application_id, "章程缺少签字页", ["articles_of_association"]
    )
    with pytest.raises(UserError):
        city.applications.accept(AMR, application_id)
    city.applications.resubmit(
        founder.principal,
        application_id,
        ESTABLISHMENT | {"business_scope": "餐饮服务；食品销售"},
        {"articles_of_association": upload(city, founder, PDF + b"signed")},
    )
    application = city.applications.get(application_id)
    assert application.status == Status.SUBMITTED
    assert application.form["business_scope"] == "餐饮服务；食品销售"
    city.applications.reject(AMR, application_id, "名称与已有企业重复")
    assert city.applications.get(application_id).status == Status.REJECTED


def propose(city: City, bride: Person, groom: Person) -> UUID:
    """结婚登记 submitted by the bride, waiting for the groom to confirm."""
    return city.applications.submit(
        bride.principal,
        "CAB-001",
        {f: "一" for f in city.catalogue.item("CAB-001").form},
        documents(city, bride, "CAB-001"),
        co_applicant_id_number=groom.id_number,
    ).application.id


def marry(city: City, bride: Person, groom: Person) -> UUID:
    """结婚登记, both applicants confirming, approved and issued."""
    application_id = propose(city, bride, groom)
    city.applications.confirm(groom.principal, application_id)
    city.applications.accept(CAB, application_id)
    city.applications.approve(CAB, application_id)
    settle(city)
    return application_id


def test_marriage_waits_for_the_co_applicant(city: City, people: CitizenFactory) -> None:
    bride, groom = people.register("新娘", verified=True), people.register("新郎", verified=True)
    application_id = city.applications.submit(
        bride.principal,
        "CAB-001",
        {f: "一" for f in city.catalogue.item("CAB-001").form},
        documents(city, bride, "CAB-001"),
        co_applicant_id_number=groom.id_number,
    ).application.id
    with pytest.raises(UserError) as refused:
        city.applications.accept(CAB, application_id)
    assert refused.value.code is ErrorCode.ILLEGAL_TRANSITION  # awaiting the groom
    with pytest.raises(UserError) as refused:
        city.applications.confirm(people.register("旁人", verified=True).principal, application_id)
    assert refused.value.code is ErrorCode.NOT_A_CO_APPLICANT


def test_marriage_issues_a_certificate_to_each(city: City, people: CitizenFactory) -> None:
    bride, groom = people.register("新娘", verified=True), people.register("新郎", verified=True)
    application_id = marry(city, bride, groom)
    licences = [city.files.get(Licence, i) for i in city.applications.get(application_id).licences]
    assert sorted(licence.holder for licence in licences) == sorted([bride.id, groom.id])
    own = {licence.holder: licence.fields for licence in licences}
    assert own[bride.id]["holder_name"] == "新娘" and own[bride.id]["spouse_name"] == "新郎"
    assert own[groom.id]["holder_name"] == "新郎" and own[groom.id]["spouse_name"] == "新娘"


def test_the_birth_bundle_completes_when_all_its_items_do(
    city: City, people: CitizenFactory
) -> None:
    parent = people.register("父亲", verified=True)
    marry(city, parent, people.register("母亲", verified=True))
    bundle = city.catalogue.item("GSA-001")
    form = {f: "一" for code in bundle.bundle for f in city.catalogue.item(code).form}
    submitted = city.applications.submit(
        parent.principal,
        "GSA-001",
        form,
        {k: v for code in bundle.bundle for k, v in documents(city, parent, code).items()},
    )
    assert submitted.application.status == Status.IN_PROGRESS
    assert [p.item for p in submitted.parts] == list(bundle.bundle)
    for part in submitted.parts:  # in order: the birth certificate first, then who needs it
        staff = officer(part.department)
        city.applications.accept(staff, part.id)
        city.applications.approve(staff, part.id)
        settle(city)
        city.applications.complete(staff, part.id)
        settle(city)
        done = part.id == submitted.parts[-1].id
        assert (city.applications.get(submitted.application.id).status == Status.COMPLETED) is done


def accepted_short(city: City, people: CitizenFactory) -> tuple[Person, UUID]:
    """An establishment accepted without its one non-key material (容缺受理)."""
    founder = people.register("容缺", verified=True)
    given = documents(city, founder, "AMR-001")
    del given["officer_appointments"]  # the non-key one
    application_id = city.applications.submit(
        founder.principal, "AMR-001", ESTABLISHMENT, given
    ).application.id
    return founder, application_id


def test_a_shortfall_is_refused_without_credit(city: City, people: CitizenFactory) -> None:
    _, application_id = accepted_short(city, people)
    with pytest.raises(UserError) as refused:
        with_credit(city).accept(AMR, application_id)
    assert refused.value.code is ErrorCode.SHORTFALL_NOT_ALLOWED


def test_a_shortfall_accepted_on_credit_is_owed_and_supplied(
    city: City, people: CitizenFactory
) -> None:
    founder, application_id = accepted_short(city, people)
    applications = with_credit(city, founder.id)
    applications.accept(AMR, application_id)
    application = applications.get(application_id)
    assert application.missing == "officer_appointments"
    with pytest.raises(UserError) as refused:
        applications.approve(AMR, application_id)
    assert refused.value.code is ErrorCode.MATERIAL_MISSING
    applications.resubmit(
        founder.principal,
        application_id,
        None,
        {"officer_appointments": upload(city, founder, PDF + b"appointments")},
    )
    applications.approve(AMR, application_id)


def test_a_shortfall_not_supplied_in_time_lapses(city: City, people: CitizenFactory) -> None:
    founder, application_id = accepted_short(city, people)
    with_credit(city, founder.id).accept(AMR, application_id)
    settle(city)
    assert city.lapses.sweep() == 0
    city.clock.ahead = timedelta(days=30)
    assert city.lapses.sweep() == 1
    assert city.applications.get(application_id).status == Status.LAPSED


def test_an_accepted_application_is_due_in_working_days(city: City, people: CitizenFactory) -> None:
    founder = people.register("时限", verified=True)
    application_id = city.applications.submit(
        founder.principal, "AMR-001", ESTABLISHMENT, documents(city, founder, "AMR-001")
    ).application.id
    city.applications.accept(AMR, application_id)
    due = date.fromisoformat(city.applications.get(application_id).due)
    calendar_due = city.applications.calendar.add_working_days(city.clock.today(), 3)
    assert (due == calendar_due and due.weekday() < 5) or due in city.applications.calendar.workdays


def test_rated_once_and_a_bad_grade_opens_a_follow_up(city: City, people: CitizenFactory) -> None:
    founder = people.register("评价", verified=True)
    application, _, _ = establish(city, founder)
    with pytest.raises(UserError):
        city.applications.rate(founder.principal, application.id, "SATISFIED", "")
    city.applications.complete(AMR, application.id)
    city.applications.rate(founder.principal, application.id, "DISSATISFIED", "等太久")
    assert city.applications.get(application.id).follow_up_open
    with pytest.raises(UserError) as refused:
        city.applications.rate(founder.principal, application.id, "SATISFIED", "")
    assert refused.value.code is ErrorCode.ALREADY_RATED
    city.applications.close_follow_up(AMR, application.id, "已致电解释并改进流程")
    assert not city.applications.get(application.id).follow_up_open
    settle(city)
    stats = city.reads.applications.rating_statistics(founder.principal, "AMR")[0]
    assert (stats.dissatisfied, stats.follow_ups_closed) == (1, 1)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"GIF89a not allowed", ErrorCode.UPLOAD_TYPE_NOT_ALLOWED),
        (b"%PDF-" + bytes(10 * 1024 * 1024), ErrorCode.UPLOAD_TOO_LARGE),
    ],
)
def test_uploads_are_limited(
    city: City, people: CitizenFactory, content: bytes, code: ErrorCode
) -> None:
    with pytest.raises(UserError) as refused:
        city.uploads.put(people.register("上传").principal, content)
    assert refused.value.code is code


def test_an_upload_is_sealed_at_rest_and_shredded_with_its_owner(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("文件")
    secret = b"%PDF-1.7 secret medical certificate"
    digest = city.uploads.put(person.principal, secret).digest
    stored = (city.settings.data_dir / "uploads" / str(person.id) / digest).read_bytes()
    assert b"secret medical" not in stored
    assert city.uploads.content(person.id, digest) == secret
    city.files.vault.shred(person.id)
    assert city.uploads.content(person.id, digest) is None


def test_a_renewal_needs_the_licence_it_renews(city: City, people: CitizenFactory) -> None:
    driver = people.register("司机", verified=True)
    with pytest.raises(UserError) as refused:
        city.applications.submit(
            driver.principal,
            "PSB-001",
            {f: "一" for f in city.catalogue.item("PSB-001").form},
            documents(city, driver, "PSB-001"),
        )
    assert refused.value.code is ErrorCode.MATERIAL_MISSING


def test_a_bundle_is_listed_in_progress_and_in_no_queue(city: City, people: CitizenFactory) -> None:
    parent = people.register("单亲", verified=True)
    bundle = city.catalogue.item("GSA-001")
    form = {f: "一" for code in bundle.bundle for f in city.catalogue.item(code).form}
    given = {k: v for code in bundle.bundle for k, v in documents(city, parent, code).items()}
    submitted = city.applications.submit(parent.principal, "GSA-001", form, given)
    settle(city)
    [row] = [
        r
        for r in city.reads.applications.mine(parent.principal, None, 10, None)
        if r.id == submitted.application.id
    ]
    assert row.status == Status.IN_PROGRESS
    queued = city.reads.applications.queue(officer("GSA"), 10, None)
    assert submitted.application.id not in [r.id for r in queued]


def test_a_persons_history_holds_their_applications_and_licences(
    city: City, people: CitizenFactory
) -> None:
    founder = people.register("档案", verified=True)
    _, enterprise, licence = establish(city, founder)
    settle(city)
    mine = city.reads.audit.history(AUDITOR, founder.id, HistoryPage(first=100), WHY)
    types = [entry.type for entry in mine]
    assert types[0] == "Citizen.Registered"
    assert {"Application.Submitted", "Application.Accepted", "Application.Approved"} <= set(types)
    assert [e.position for e in mine] == sorted(e.position for e in mine)  # the log's order
    theirs = city.reads.audit.history(AUDITOR, enterprise.id, HistoryPage(first=100), WHY)
    assert [e.type for e in theirs] == ["Enterprise.Registered", "Licence.Issued"]
    assert theirs[1].stream == licence.id


def moved_to(city: City, moment: datetime) -> None:
    """The city's clock at this moment (events are still stamped with the real time)."""
    city.clock.ahead = moment - datetime.now(UTC)


CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("accepted_on", "due"),
    [
        (date(2026, 11, 27), date(2026, 12, 2)),  # a Friday: the weekend does not count
        (date(2026, 9, 30), date(2026, 10, 10)),  # National Day off; Saturday the 10th works
    ],
)
def test_overdue_across_a_weekend_and_a_holiday(
    city: City, people: CitizenFactory, accepted_on: date, due: date
) -> None:
    founder = people.register("逾期", verified=True)
    application_id = city.applications.submit(
        founder.principal, "AMR-001", ESTABLISHMENT, documents(city, founder, "AMR-001")
    ).application.id
    moved_to(city, datetime.combine(accepted_on, time(10), CST))
    city.applications.accept(AMR, application_id)
    assert city.applications.get(application_id).due == due.isoformat()
    settle(city)
    for day, overdue in ((due, False), (due + timedelta(days=1), True)):
        moved_to(city, datetime.combine(day, time(10), CST))
        listed = [r.id for r in city.reads.applications.overdue(AMR, 10, None)]
        assert (application_id in listed) is overdue, day


def test_the_food_business_licence_goes_to_the_enterprise(
    city: City, people: CitizenFactory
) -> None:
    founder = people.register("食品", verified=True)
    _, enterprise, _ = establish(city, founder)
    application_id = city.applications.submit(
        founder.principal,
        "AMR-002",
        {f: "一" for f in city.catalogue.item("AMR-002").form},
        documents(city, founder, "AMR-002"),
        enterprise_id=enterprise.id,
    ).application.id
    city.applications.accept(AMR, application_id)
    city.applications.approve(AMR, application_id)
    settle(city)
    [licence_id] = city.applications.get(application_id).licences
    licence = city.files.get(Licence, licence_id)
    assert (licence.holder, licence.type_code) == (enterprise.id, "FOOD_BUSINESS_LICENCE")
    assert licence.fields["credit_code"] == enterprise.credit_code
    assert int(licence.valid_until[:4]) == int(licence.valid_from[:4]) + 5  # five years


@pytest.mark.parametrize(("item", "department"), [("PSB-002", "PSB"), ("HRSS-001", "HRSS")])
def test_a_citizens_licence_from_application_to_wallet(
    city: City, people: CitizenFactory, item: str, department: str
) -> None:
    person = people.register("居民", verified=True)
    staff = officer(department)
    application_id = city.applications.submit(
        person.principal,
        item,
        {f: "一" for f in city.catalogue.item(item).form},
        documents(city, person, item),
    ).application.id
    city.applications.accept(staff, application_id)
    city.applications.approve(staff, application_id)
    settle(city)
    city.applications.complete(staff, application_id)
    settle(city)
    [held] = city.reads.licences.wallet(person.principal, None, 10, None)
    assert held.type_code == city.catalogue.item(item).licence.type_code  # type: ignore[union-attr]
    assert held.fields is not None and held.fields["holder_name"] == "居民"
    assert held.status.value == "VALID"
