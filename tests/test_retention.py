"""Retention classes: closing an account erases its service activity at once and keeps each
statutory record for its period (data/retention), then erases it too; the receipt says
which, until when, under which rule. Each day is tried on both sides."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import pytest

from mycity.bootstrap import City, build
from mycity.data import load_retention
from mycity.domain.application import Application
from mycity.domain.citizen import Citizen
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.licence import Licence, LicenceStatus
from mycity.domain.personal import Retention
from mycity.domain.retention import (
    DAY,
    Record,
    RecordKind,
    RetentionError,
    add_years,
    parse_retention,
)
from mycity.domain.scan import Scan
from mycity.settings import Settings
from mycity.store.seals import key_id
from tests.helpers import OFFICER, WHY, CitizenFactory
from tests.services import (
    AMR,
    CAB,
    PSB,
    close_account,
    documents,
    establish,
    residence_permit,
    settle,
)
from tests.test_applications import marry, propose

SHIPPED = json.loads(
    (
        __import__("importlib.resources").resources.files("mycity.data")
        / "retention/retention.json"
    ).read_text(encoding="utf-8")
)


def _on(city: City, day: date) -> int:
    """The sweep, at noon of that day (the same date in UTC and in the city), once: the
    runner's own is kept from running meanwhile."""
    city.retention.every_seconds = float("inf")
    city.retention.sweep_if_due()  # its first, now, on whatever day
    city.clock.stopped_at = datetime.combine(day, time(12), UTC)
    settle(city)
    return city.retention.sweep()


def _today() -> date:
    return datetime.now(UTC).date()


# -- the rules, as data ------------------------------------------------------------------


def test_the_shipped_rules_parse_and_say_where_each_period_is_counted_from() -> None:
    rules = load_retention()
    assert {k.value: (r.years, r.counted.value) for k, r in rules.kinds.items()} == {
        "REGISTRATION": (3, "CLOSED"),
        "APPLICATION": (10, "ENDED"),
        "LICENCE": (10, "VALIDITY_ENDED"),
    }
    assert rules.items["CAB-001"].years is None  # a marriage registration: for good


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("licence"), "retention.json: licence: missing"),
        (lambda d: d.update(extra={}), "retention.json: top: unknown field extra"),
        (lambda d: d["application"].update(years=101), "application.years: must be a whole"),
        (lambda d: d["application"].update(years=-1), "application.years: must be a whole"),
        (lambda d: d["application"].update(years=True), "application.years: must be a whole"),
        (lambda d: d["application"].update(years=1.5), "application.years: must be a whole"),
        (lambda d: d["application"].pop("years"), "application.years: must be a whole"),
        (lambda d: d["licence"].update(after="ENDED"), "licence.after: must be VALIDITY_ENDED"),
        (lambda d: d["registration"].update(basis=" "), "registration.basis: must name the law"),
        (lambda d: d["items"].update({"X-1": []}), "items.X-1: must be an object"),
        (lambda d: d["items"]["CAB-001"].update(kept=1), "items.CAB-001: unknown field kept"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_file_the_place_and_the_problem(
    change: Any, message: str
) -> None:
    document = copy.deepcopy(SHIPPED)
    change(document)
    with pytest.raises(RetentionError, match=message.replace(".", r"\.")):
        parse_retention(document)


@pytest.mark.parametrize("years", [0, 100, None])
def test_a_period_of_0_to_100_years_or_for_good_is_a_rule(years: int | None) -> None:
    document = copy.deepcopy(SHIPPED)
    document["application"]["years"] = years
    assert parse_retention(document).kinds[RecordKind.APPLICATION].years == years


def test_years_are_counted_to_the_same_day_and_29_february_to_1_march() -> None:
    assert add_years(date(2026, 12, 6), 10) == date(2036, 12, 6)
    assert add_years(date(2028, 2, 29), 3) == date(2031, 3, 1)  # never a day short
    assert add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)


def test_a_record_is_kept_through_the_anniversary_of_its_last_day_and_goes_the_day_after() -> None:
    rules = load_retention()
    record = Record(RecordKind.APPLICATION, "a", "PSB-002", date(2028, 2, 29))
    assert rules.kept(record).erased_on == date(2038, 3, 2)  # kept through 1 March
    licence = Record(RecordKind.LICENCE, "l", "RESIDENCE_PERMIT", date(2027, 12, 6))
    assert rules.kept(licence).erased_on == date(2037, 12, 7)  # valid through 2027-12-06


def test_an_items_rule_covers_its_licences_and_must_name_a_catalogue_item() -> None:
    rules = load_retention()
    marriage = Record(RecordKind.LICENCE, "l", "MARRIAGE_CERTIFICATE", date(2030, 1, 1))
    assert (rules.kept(marriage).rule.name, rules.kept(marriage).erased_on) == ("CAB-001", None)
    document = copy.deepcopy(SHIPPED)
    document["items"]["NO-001"] = {"years": 5, "basis": "x"}
    with pytest.raises(RetentionError, match=r"items\.NO-001: no such catalogue item"):
        parse_retention(document).for_catalogue({"CAB-001": "MARRIAGE_CERTIFICATE"})
    document["items"] = {"A-1": {"years": 5, "basis": "x"}}
    with pytest.raises(RetentionError, match=r"items\.A-1: T is also issued by A-2 under another"):
        parse_retention(document).for_catalogue({"A-1": "T", "A-2": "T"})


# -- the receipt and the schedule -----------------------------------------------------------


def test_the_receipt_says_what_went_and_each_record_kept_until_when_under_which_rule(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("档案", verified=True)
    permit = residence_permit(city, person)  # approved: the application is still open
    closed_on = _today()
    erasure = close_account(city, people, person)

    assert erasure.erased_now == [Retention.SERVICE_ACTIVITY]
    receipt = {k.record.kind: k for k in erasure.kept}
    assert set(receipt) == set(RecordKind)
    registration = receipt[RecordKind.REGISTRATION]
    assert (registration.record.ends, registration.erased_on) == (
        closed_on,
        add_years(closed_on, 3) + DAY,
    )
    application = receipt[RecordKind.APPLICATION]
    assert (application.record.reference, application.record.ends) == (
        str(permit.application),
        None,
    )
    assert application.erased_on is None  # it has not ended: 10 years after it does
    licence = receipt[RecordKind.LICENCE]
    valid_until = date.fromisoformat(permit.valid_until)
    assert (licence.record.ends, licence.erased_on) == (
        valid_until,
        add_years(valid_until, 10) + DAY,
    )
    assert licence.rule.basis and licence.rule.name == "licence"
    assert erasure.statutory_erased_on is None  # while the application is open
    # the same receipt is in the file's history, beside the erasure
    *_, erased, kept = city.files.events.get(person.id)
    assert isinstance(erased, Citizen.Erased) and isinstance(kept, Citizen.RecordsKept)
    assert kept.erased_now == ["SERVICE_ACTIVITY"]
    assert kept.kept == [k.receipt() for k in erasure.kept]

    # the application ends after the account closed: the licence's day is the last one
    city.applications.complete(PSB, permit.application)
    last_day = add_years(valid_until, 10) + DAY
    assert _on(city, last_day - timedelta(days=1)) == 0
    assert city.files.read(Licence, permit.id).fields is not None
    assert city.files.read(Application, permit.application).form is not None
    assert _on(city, last_day) == 1
    city.files.repository.cache = None  # type: ignore[assignment]  # as another process
    assert city.files.read(Licence, permit.id).fields is None
    assert city.files.read(Application, permit.application).form is None


def test_an_application_that_ended_keeps_the_records_ten_years_from_its_end(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("驳回", verified=True)
    application_id = city.applications.submit(
        person.principal,
        "PSB-002",
        {"address": "常德市武陵区朗州路9号", "resident_since": "2020-01-01"},
        documents(city, person, "PSB-002"),
    ).application.id
    city.applications.reject(PSB, application_id, "材料不全")
    erasure = close_account(city, people, person)
    day = add_years(_today(), 10) + DAY
    assert erasure.statutory_erased_on == day
    assert _on(city, day - timedelta(days=1)) == 0
    assert _on(city, day) == 1
    assert city.files.read(Citizen, person.id).statutory_erased


def test_a_legal_hold_keeps_the_statutory_records_past_their_period_until_lifted(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("诉讼")
    close_account(city, people, person)
    city.privacy.place_legal_hold(OFFICER, person.id, "(2029)湘0702民初7号")  # after closing
    day = add_years(_today(), 3) + DAY
    assert _on(city, day) == 0
    assert _on(city, day + timedelta(days=400)) == 0
    assert next(iter(city.files.events.get(person.id))).name == "诉讼"
    city.privacy.lift_legal_hold(OFFICER, person.id, "案件已审结")
    assert _on(city, day + timedelta(days=400)) == 1
    with pytest.raises(UserError) as gone:
        city.privacy.place_legal_hold(OFFICER, person.id, "(2033)湘0702民初9号")
    assert gone.value.code is ErrorCode.FILE_ERASED


def test_a_marriage_registration_is_kept_for_good(city: City, people: CitizenFactory) -> None:
    bride, groom = people.register("新娘", verified=True), people.register("新郎", verified=True)
    marriage = marry(city, bride, groom)
    city.applications.complete(CAB, marriage)
    erasure = close_account(city, people, groom)  # the co-applicant closes his account
    [application] = [k for k in erasure.kept if k.record.kind is RecordKind.APPLICATION]
    assert (application.rule.name, application.rule.years) == ("CAB-001", None)
    assert application.erased_on is None and erasure.statutory_erased_on is None
    [certificate] = [k for k in erasure.kept if k.record.kind is RecordKind.LICENCE]
    assert (certificate.record.item, certificate.rule.name) == ("MARRIAGE_CERTIFICATE", "CAB-001")
    assert certificate.erased_on is None  # his own certificate: kept for good
    assert _on(city, add_years(_today(), 100)) == 0
    held = city.files.read(Licence, UUID(certificate.record.reference))
    assert held.holder == groom.id and held.fields is not None


# -- what goes at once, and what stays valid ---------------------------------------------


def test_scans_and_check_ins_go_at_once_and_a_licence_held_stays_valid_but_is_not_shown(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("一码", verified=True)
    permit = residence_permit(city, person)
    code = city.city_codes.issue(person.principal).payload
    from mycity.verifier.city_code import Purpose
    from tests.services import GATE

    scan_id = city.scans.scan(GATE, code, Purpose.TRANSIT, "武陵阁站 3号闸机").scan_id
    assert scan_id is not None
    close_account(city, people, person)
    settle(city)
    [scan] = city.files.events.get(scan_id)
    assert isinstance(scan, Scan.Recorded) and (scan.place, scan.colour) == (None, None)
    for name in ("scan_log", "wallet"):
        city.read_models.rebuild(name)
    [row] = city.read_models.rows("scan_log").get_many([str(scan_id)]).values()
    assert (row["place"], row["colour"]) == (None, None)
    # the licence is a legal fact: valid, its fields kept; but no app account, no showing
    licence = city.files.read(Licence, permit.id)
    assert licence.status(_today()) is LicenceStatus.VALID and licence.fields is not None
    with pytest.raises(UserError) as refused:
        city.licences.present(person.principal, permit.id, ["address"])
    assert refused.value.code is ErrorCode.FILE_ERASED
    assert city.reads.citizens.profile(OFFICER, person.id, WHY).name is None  # type: ignore[union-attr]


def test_closing_an_account_withdraws_what_waits_for_the_person_alone_so_it_ends(
    city: City, people: CitizenFactory
) -> None:
    bride, groom = (
        people.register("待确认", verified=True),
        people.register("未确认", verified=True),
    )
    waiting = propose(city, bride, groom)
    erasure = close_account(city, people, groom)  # he never confirmed: nobody else could move it
    assert city.applications.get(waiting).status == "WITHDRAWN"
    [kept] = [k for k in erasure.kept if k.record.kind is RecordKind.APPLICATION]
    assert kept.record.ends == _today() and kept.erased_on is None  # CAB-001: for good
    settle(city)  # the schedule agrees: it ended today
    [row] = [r for r in city.privacy.records_of(groom.id) if r.kind is RecordKind.APPLICATION]
    assert (row.reference, row.ends) == (str(waiting), _today())


def test_the_statutory_records_never_go_before_their_day_even_when_asked(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("早删")
    close_account(city, people, person)
    settle(city)
    city.clock.stopped_at = datetime.combine(add_years(_today(), 3), time(12), UTC)
    assert not city.privacy.erase_statutory_records(person.id)  # one day to go
    assert next(iter(city.files.events.get(person.id))).name == "早删"


def test_an_agent_who_withdrew_an_enterprises_application_keeps_their_key_for_its_period(
    city: City, people: CitizenFactory
) -> None:
    """The withdrawal's reason is the agent's, sealed under the agent's key: the
    enterprise's record keeps it for ten years, whenever the agent closes their account."""
    founder = people.register("法人代表", verified=True)
    establishment, enterprise, _ = establish(city, founder)
    city.applications.complete(AMR, establishment.id)  # his own record, ended today
    settle(city)
    application_id = city.applications.submit(
        founder.principal,
        "AMR-002",
        {f: "食品经营场所平面图说明" for f in city.catalogue.item("AMR-002").form},
        documents(city, founder, "AMR-002"),
        enterprise_id=enterprise.id,
    ).application.id
    city.applications.withdraw(founder.principal, application_id, "材料需要补充后再申请")
    erasure = close_account(city, people, founder)
    [record] = [k for k in erasure.kept if k.record.reference == str(application_id)]
    assert record.record.ends == _today()
    assert erasure.statutory_erased_on == add_years(_today(), 10) + DAY
    settle(city)
    [reason] = [
        e for e in city.files.events.get(application_id) if isinstance(e, Application.Withdrawn)
    ]
    assert reason.reason == "材料需要补充后再申请"  # kept: the statutory key did not go


def test_people_erased_before_retention_classes_lose_their_service_key_at_start(
    settings: Settings,
) -> None:
    """Such an erasure shredded the person's own key alone: every city opening the store
    shreds their service-activity key too, once."""
    city = build(settings)
    try:
        person = CitizenFactory(city).register("旧注销")
        service = key_id(person.id, Retention.SERVICE_ACTIVITY)
        city.files.vault.shred(person.id)  # as an erasure did before
        assert not city.files.vault.is_shredded(service)
    finally:
        city.close()
    again = build(settings)
    try:
        assert again.files.vault.is_shredded(service)
        assert again.files.vault.shred_with_their_people() == 0  # once
        assert again.files.vault.is_shredded(person.id)
    finally:
        again.close()
