"""Snapshots keep a person's fields sealed under that person's key, not the file's own id:
the applicant's for an application, the holder's for a licence, the citizen's for their
code holder, each retention class under its own key. Erasing the person leaves nothing of
their service activity in any snapshot, in clear or openable, and their statutory records
go the same way when their period ends; the files read as erased; files with nothing
personal still load."""

from __future__ import annotations

import base64
import json
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate

from mycity.bootstrap import City, build
from mycity.domain.application import Application
from mycity.domain.citizen import Citizen
from mycity.domain.code_holder import CodeHolder, code_holder_id
from mycity.domain.credit import Severity, credit_id
from mycity.domain.enterprise import Enterprise
from mycity.domain.licence import Licence
from mycity.domain.personal import personal_of
from mycity.domain.register import Register, register_id
from mycity.identity.principal import Principal, Role
from mycity.store.seals import Sealed, key_id
from mycity.usecases.credit import PenaltyDecision
from tests.helpers import OFFICER, WHY, CitizenFactory, Person
from tests.services import (
    AMR,
    ESTABLISHMENT,
    HEALTH_FEED,
    PSB,
    documents,
    establish,
    past_retention,
    residence_permit,
    settle,
)


def stored_snapshot(city: City, file_id: UUID) -> dict[str, Any]:
    """The file's newest snapshot as stored, decrypted at rest: what a leaked at-rest key
    would show."""
    snapshots = city.files.snapshots
    assert snapshots is not None, "snapshotting is off"
    [stored] = snapshots.recorder.select_events(file_id, desc=True, limit=1)
    cipher = city.files.mapper.cipher
    assert cipher is not None
    return {"version": stored.originator_version} | json.loads(cipher.decrypt(stored.state))


def assert_sealed(city: City, file: Aggregate, whose: UUID, *clear: str) -> None:
    """The personal fields of the file's snapshot are sealed together under `whose` keys
    (each retention class under its own; the fields themselves stored as null), and none
    of these values is stored in clear."""
    state = stored_snapshot(city, file.id)
    declared = personal_of(type(file))
    assert declared is not None
    text = json.dumps(state, ensure_ascii=False)
    for value in clear:
        assert value not in text
    for field in declared.fields:
        assert state["state"].get(field) is None, f"{field} is stored as it is"
    sealed = state["state"]["_sealed"]
    seals = sealed if isinstance(sealed, list) else [sealed]
    assert {seal["_type_"] for seal in seals} == {"sealed"}
    classes = set(declared.retention.values())
    assert {Sealed(base64.b64decode(seal["_data_"])).subject for seal in seals} == {
        key_id(whose, retention) for retention in classes
    }


def openable(city: City, file_id: UUID) -> list[bool]:
    """Whether each seal in the file's snapshot still opens (none: nothing sealed)."""
    state = stored_snapshot(city, file_id)["state"]
    sealed = state.get("_sealed")
    seals = sealed if isinstance(sealed, list) else [sealed] if sealed else []
    return [
        city.files.vault.open(Sealed(base64.b64decode(seal["_data_"]))) is not None
        for seal in seals
    ]


@pytest.fixture
def snapshot_often(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    """A snapshot every third event of a file, through the same path as every 100th."""
    monkeypatch.setattr(city.files, "snapshot_every", 3)


def set_colours(city: City, person: Person, *reasons: str) -> None:
    for reason in reasons:
        city.health.set_status(HEALTH_FEED, person.id_number, "YELLOW", reason, None)


def test_each_snapshot_seals_under_the_person_whose_fields_they_are(
    city: City, people: CitizenFactory
) -> None:
    founder = people.register("创始人", verified=True)
    application, enterprise, business = establish(city, founder)
    permit = residence_permit(city, founder)
    set_colours(city, founder, "密接")
    holder = city.files.get(CodeHolder, code_holder_id(founder.id))
    for file in (city.files.get(Citizen, founder.id), application, business, permit, holder):
        city.files.take_snapshot(file.id)
    assert_sealed(city, city.files.get(Citizen, founder.id), founder.id, founder.id_number)
    assert_sealed(city, application, founder.id, ESTABLISHMENT["business_scope"])
    assert_sealed(city, business, enterprise.id, ESTABLISHMENT["business_scope"], "创始人")
    assert_sealed(city, permit, founder.id, "朗州路", founder.id_number)
    assert_sealed(city, holder, founder.id, "密接", "YELLOW")


def test_an_enterprises_application_is_sealed_under_the_enterprise_not_its_agent(
    city: City, people: CitizenFactory
) -> None:
    founder = people.register("法人", verified=True)
    _, enterprise, _ = establish(city, founder)
    settle(city)
    form = {f: "食品经营场所平面图说明" for f in city.catalogue.item("AMR-002").form}
    application = city.applications.submit(
        founder.principal,
        "AMR-002",
        form,
        documents(city, founder, "AMR-002"),
        enterprise_id=enterprise.id,
    ).application
    city.files.take_snapshot(application.id)
    assert_sealed(city, application, enterprise.id, "食品经营场所平面图说明")


def test_erasing_a_person_leaves_nothing_of_them_in_their_files_snapshots(
    city: City, people: CitizenFactory, snapshot_often: None
) -> None:
    person = people.register("消除", verified=True)  # Registered, RealNameVerified
    city.citizens.change_contact(person.principal, None, None, "武陵区朗州路9号")  # 3rd
    permit = residence_permit(city, person)
    application_id = permit.application  # Submitted, Accepted, Approved: a snapshot
    for reason in ("密接", "次密接", "时空伴随"):  # Opened and three statuses: one at 3
        set_colours(city, person, reason)
    city.licences.suspend(PSB, permit.id, "核查居住信息")
    city.licences.reinstate(PSB, permit.id, "核查完毕")  # the 3rd event of the licence
    for file_id in (person.id, application_id, permit.id, code_holder_id(person.id)):
        assert stored_snapshot(city, file_id)["version"] == 3, file_id
    other = build(city.settings)  # another process: it reads the files from their snapshots
    try:
        other.files.vault.refresh_seconds = 0.0  # hears of shreds at once
        for reads in (city.reads, other.reads):  # the application is cached in each now
            assert reads.applications.form(PSB, application_id, WHY) is not None

        settle(city)  # the retention schedule, read for the receipt
        city.privacy.erase_own(person.principal, people.code_for(person.phone))
        settle(city)

        # the service activity goes at once: the code holder, the contact details
        files = (person.id, application_id, permit.id, code_holder_id(person.id))
        for file_id in files:
            assert "朗州路" not in json.dumps(stored_snapshot(city, file_id), ensure_ascii=False)
        assert openable(city, code_holder_id(person.id)) == [False]
        assert openable(city, person.id) == [True, False]  # the registration; the contact
        for files_ in (city.files, other.files):
            citizen = files_.read(Citizen, person.id)
            assert citizen.erased and (citizen.name, citizen.address) == (None, None)
            assert files_.read(CodeHolder, code_holder_id(person.id)).erased
            # the statutory records are kept until their periods end
            assert files_.read(Application, application_id).form is not None
            assert files_.read(Licence, permit.id).fields is not None
        assert openable(city, application_id) == openable(city, permit.id) == [True]

        city.applications.complete(PSB, application_id)  # the last record ends
        past_retention(city, person)
        settle(city)
        for file_id in files:
            assert not any(openable(city, file_id))
        for files_ in (city.files, other.files):
            assert files_.read(Application, application_id).form is None
            assert files_.read(Licence, permit.id).fields is None
        for reads in (city.reads, other.reads):
            assert reads.applications.form(PSB, application_id, WHY) is None
    finally:
        other.close()


def test_a_snapshot_after_the_erasure_keeps_nothing_and_fails_no_command(
    city: City, people: CitizenFactory, snapshot_often: None
) -> None:
    person = people.register("后照", verified=True)
    application_id = city.applications.submit(
        person.principal, "AMR-001", ESTABLISHMENT, documents(city, person, "AMR-001")
    ).application.id
    city.applications.accept(AMR, application_id)
    settle(city)  # the retention schedule, read for the receipt
    city.privacy.erase_own(person.principal, people.code_for(person.phone))
    # as if its period had ended (the application cannot end first: then no event follows)
    city.files.vault.shred(person.id)
    city.applications.reject(AMR, application_id, "申请人已注销")  # the 3rd: a snapshot
    state = stored_snapshot(city, application_id)
    assert state["version"] == 3
    assert (state["state"]["form"], state["state"]["comment"]) == (None, None)
    assert "_sealed" not in state["state"]
    assert city.files.read(Application, application_id).status == "REJECTED"


def test_files_with_nothing_personal_still_load_from_their_snapshots(
    city: City, people: CitizenFactory, snapshot_often: None
) -> None:
    founder, agent = people.register("法人", verified=True), people.register("代理", verified=True)
    application, enterprise, _ = establish(city, founder)
    city.enterprises.authorise_agent(  # the 2nd event, an invitation; the 3rd, its answer
        founder.principal, enterprise.id, agent.id_number, ["APPLICATIONS", "LICENCES"]
    )
    city.enterprises.accept_invitation(agent.principal, enterprise.id)
    city.files.take_snapshot(register_id("AMR"))  # the process's file, never snapshotted
    state = stored_snapshot(city, enterprise.id)
    assert state["version"] == 3
    assert ESTABLISHMENT["enterprise_name"] in json.dumps(state, ensure_ascii=False)
    settle(city)  # the retention schedule, read for the receipt
    city.privacy.erase_own(founder.principal, people.code_for(founder.phone))
    fresh = build(city.settings)
    try:
        loaded = fresh.files.read(Enterprise, enterprise.id)
        assert (loaded.name, loaded.legal_representative_id) == (
            ESTABLISHMENT["enterprise_name"],
            founder.id,
        )
        assert loaded.agents == {agent.id: ["APPLICATIONS", "LICENCES"]}
        register = fresh.files.read(Register, register_id("AMR"))
        assert register.last == city.files.read(Register, register_id("AMR")).last
        assert fresh.reads.enterprises.profile(OFFICER, enterprise.id, WHY) is not None
    finally:
        fresh.close()
    assert application.applicant == founder.id


def test_credit_and_its_public_records_work_from_their_snapshots(
    city: City, people: CitizenFactory, snapshot_often: None
) -> None:
    """A citizen's score sealed in the snapshot under their key; a penalty's record (public,
    nothing sealed) repaired after its snapshot as before it."""
    market = Principal("feed-amr", Role.AUTHORITY_FEED, "AMR", "市场监管局")
    person = people.register("快照信用")
    for i in range(4):  # opened and three changes: a snapshot at the third event
        city.credits.record_change(market, person.id_number, None, 10, "R_UP", f"快照{i}", None)
    state = stored_snapshot(city, credit_id(person.id))
    assert state["state"]["score"] is None and "_sealed" in state["state"]
    founder = people.register("快照法人", verified=True)
    _, enterprise, _ = establish(city, founder)
    decision = PenaltyDecision(
        enterprise.credit_code, "快照罚1", "食品经营", "未公示", "《食品安全法》", "警告",
        city.clock.today(), Severity.MINOR,
    )  # fmt: skip
    record, _ = city.credits.record_penalty(market, decision)
    repair, _ = city.credits.apply_for_repair(founder.principal, record, "承" * 20, [])
    officer = Principal("officer-amr", Role.OFFICER, "AMR", "赵")
    city.credits.decide_repair(officer, record, repair, False, "材料不全")  # the 3rd event
    assert stored_snapshot(city, record)["version"] == 3
    fresh = build(city.settings)  # loads both files from their snapshots
    try:
        assert fresh.reads.credit.read(OFFICER, person.id, WHY).score == 640
        again, _ = fresh.credits.apply_for_repair(founder.principal, record, "承" * 20, [])
        assert again != repair
    finally:
        fresh.close()
