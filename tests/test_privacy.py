"""Per-person keys: personal fields sealed wherever stored, and erasure shredding them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from mycity.bootstrap import City, build
from mycity.domain.citizen import Citizen, ErasureGround
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.personal import Retention
from mycity.domain.retention import add_years
from mycity.identity.tokens import TokenPair
from mycity.settings import Settings
from mycity.store.sealing import _with_state
from mycity.store.seals import Nonces, Sealed, key_id
from mycity.store.vault import DataKeyMissing
from mycity.verifier.city_code import Purpose
from tests.helpers import ADMIN, OFFICER, WHY, CitizenFactory, Person, resident_id
from tests.services import CAB, GATE, PSB, close_account, documents, past_retention, settle


def _states(city: City, table: str) -> list[dict[str, Any]]:
    """The stored states of a table of events, decrypted at rest: what a leaked at-rest key
    would show."""
    with city.db.transaction(commit=False) as cur:
        rows = cur.execute(f"SELECT state FROM {city.db.table(table)}").fetchall()
    cipher = city.files.mapper.cipher
    assert cipher is not None
    return [json.loads(cipher.decrypt(bytes(r["state"]))) for r in rows]


def _sealed_under(state: dict[str, Any]) -> set[UUID]:
    """The keys an event's personal fields are sealed under (one seal for each class)."""
    seals = state["_sealed"] if isinstance(state["_sealed"], list) else [state["_sealed"]]
    assert {seal["_type_"] for seal in seals} == {"sealed"}
    return {Sealed(base64.b64decode(seal["_data_"])).subject for seal in seals}


def _service(person: Person) -> UUID:
    return key_id(person.id, Retention.SERVICE_ACTIVITY)


def _events_table(city: City) -> str:
    return str(city.files.recorder.events_table_name)  # type: ignore[attr-defined]


def test_personal_fields_are_sealed_in_the_events_beneath_the_at_rest_encryption(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("封")
    city.citizens.change_contact(person.principal, None, None, "武陵区朗州路9号")
    states = _states(city, _events_table(city))
    text = json.dumps(states, ensure_ascii=False)
    for value in (person.name, person.id_number, person.phone, "朗州路"):
        assert value not in text
    # the ID number and name registered, sealed together under the statutory key, the
    # phone under the service-activity key; then the change's phone and address, together
    # under the service-activity key: the fields themselves are stored as null
    registered, changed = [s for s in states if "_sealed" in s]
    assert [registered[f] for f in ("name", "id_number", "phone")] == [None, None, None]
    assert [changed[f] for f in ("phone", "address")] == [None, None]
    assert _sealed_under(registered) == {person.id, _service(person)}
    assert _sealed_under(changed) == {_service(person)}
    assert text.count('"_type_": "sealed"') == 3
    file = city.files.read(Citizen, person.id)
    assert (file.name, file.id_number, file.address) == (
        person.name,
        person.id_number,
        "武陵区朗州路9号",
    )


def test_an_event_stored_with_each_field_sealed_on_its_own_still_opens_and_is_erased(
    city: City, people: CitizenFactory
) -> None:
    """Events stored before fields were sealed together (one seal a field, every one under
    the person's own key) are read as they are: the format changed, the log did not. That
    key is the statutory one now: they go when the statutory records do."""
    person = people.register("旧")
    vault, mapper = city.files.vault, city.files.mapper
    event = Citizen.Registered(  # type: ignore[call-arg]
        originator_id=person.id,
        originator_version=2,
        timestamp=Citizen.Registered.create_timestamp(),
        originator_topic=get_topic(Citizen),
        id_number=person.id_number,
        name="旧名",
        phone=person.phone,
    )
    fields = ("id_number", "name", "phone")
    each = vault.seal_all(person.id, [mapper.transcoder.encode(getattr(event, f)) for f in fields])
    state = vars(event) | dict(zip(fields, each, strict=True))
    stored = Mapper.to_stored_event(mapper, _with_state(event, state))
    as_stored = json.loads(text_of(mapper, stored))
    assert [as_stored[f]["_type_"] for f in fields] == ["sealed"] * 3
    opened = mapper.to_domain_event(stored)
    assert (opened.id_number, opened.name, opened.phone) == (person.id_number, "旧名", person.phone)
    unread = mapper.decode(stored, frozenset({Retention.SERVICE_ACTIVITY}))  # all statutory
    assert (unread.id_number, unread.name, unread.phone) == (None, None, None)
    close_account(city, people, person)
    kept = mapper.to_domain_event(stored)
    assert (kept.id_number, kept.name) == (person.id_number, "旧名")
    past_retention(city, person)
    erased = mapper.to_domain_event(stored)
    assert (erased.id_number, erased.name, erased.phone) == (None, None, None)


def test_a_rebuild_opens_only_the_retention_classes_its_read_model_reads(
    city: City, people: CitizenFactory
) -> None:
    """A read model that reads no contacts (the directory) is rebuilt from events whose
    service-activity fields stay sealed: their key is neither looked up nor used."""
    person = people.register("只读")
    vault, mapper = city.files.vault, city.files.mapper
    registered = next(
        r
        for r in city.files.recorder.select_notifications(0, limit=100)
        if r.originator_id == person.id and r.topic == get_topic(Citizen.Registered)
    )
    statutory = frozenset({Retention.STATUTORY_RECORD})
    for opens, known in ((statutory, {person.id}), (None, {person.id, _service(person)})):
        vault._keys.clear()
        vault._opening.clear()
        mapper.prefetch([registered], opens)
        event = mapper.decode(registered, opens)
        assert {person.id, _service(person)} & vault._keys.keys() == known
        assert (event.id_number, event.name) == (person.id_number, person.name)
        assert event.phone == (None if opens else person.phone)


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "王伟", "phone": "13800000000", "level": 2, "none": None},
        {"born": datetime(1990, 1, 2, tzinfo=UTC)},  # a typed value: an object in JSON
        {"answers": {"since": datetime(2020, 1, 1, tzinfo=UTC)}, "tags": ["a"]},
        {"beyond_64_bits": 2**70, "half": 0.5},  # orjson would read the first as a float
    ],
)
def test_a_seals_fields_read_back_exactly_as_the_transcoder_would(
    city: City, fields: dict[str, Any]
) -> None:
    transcoder = city.files.mapper.transcoder
    encoded = transcoder.encode(fields)
    opened = city.files.mapper._fields(encoded)
    assert opened == transcoder.decode(encoded) == fields
    assert [type(v) for v in opened.values()] == [type(v) for v in fields.values()]


def text_of(mapper: Mapper[UUID], stored: StoredEvent) -> str:
    assert mapper.cipher is not None
    return mapper.cipher.decrypt(stored.state).decode()


def test_a_long_file_is_snapshotted_sealed_and_loads_the_same_at_any_version(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("长")
    for i in range(120):
        city.citizens.change_contact(person.principal, None, None, f"长安路{i}号")
    table = "stored_snapshots" if city.db.dialect == "sqlite" else "cityfiles_snapshots"
    snapshots = _states(city, table)
    assert len(snapshots) == 1  # at version 100
    assert person.name not in json.dumps(snapshots, ensure_ascii=False)
    at_110 = city.files.repository.get(person.id, version=110)
    assert at_110.address == "长安路108号" and at_110.name == person.name
    assert city.files.repository.get(person.id, version=99).address == "长安路97号"


def test_erasure_erases_service_activity_at_once_and_statutory_records_when_their_period_ends(
    city: City, people: CitizenFactory
) -> None:
    person, other = people.register("消"), people.register("留")
    city.citizens.change_contact(person.principal, None, None, "人民路1号")
    city.read_models.catch_up()
    closed_on = datetime.now(UTC).date()
    close_account(city, people, person)
    city.read_models.catch_up()

    events = list(city.files.events.get(person.id))
    assert [type(e).__name__ for e in events] == [
        "Registered",
        "ContactChanged",
        "Erased",
        "RecordsKept",
    ]
    registered, changed = events[0], events[1]
    assert registered.phone is None and (changed.phone, changed.address) == (None, None)
    # the registration is a statutory record: kept, readable by whoever may read it
    assert (registered.name, registered.id_number) == (person.name, person.id_number)
    with pytest.raises(UserError) as refused:
        _ = city.files.read(Citizen, person.id).person  # the account is closed all the same
    assert refused.value.code is ErrorCode.FILE_ERASED
    _assert_profile_erased(city, person)

    # the registration is kept three years after the account closed, and then it goes
    goes_on = add_years(closed_on, 3) + timedelta(days=1)  # kept through the anniversary
    city.clock.stopped_at = datetime.combine(goes_on - timedelta(days=1), time(12), UTC)
    assert city.retention.sweep() == 0
    assert next(iter(city.files.events.get(person.id))).name == person.name
    city.clock.stopped_at = datetime.combine(goes_on, time(12), UTC)
    assert city.retention.sweep() == 1
    assert city.retention.sweep() == 0  # once
    city.read_models.catch_up()
    registered = next(iter(city.files.events.get(person.id)))
    assert (registered.name, registered.id_number, registered.phone) == (None, None, None)
    assert type(list(city.files.events.get(person.id))[-1]) is Citizen.StatutoryRecordsErased

    for name in city.read_models.classes:  # and after a rebuild, from the log alone
        city.read_models.rebuild(name)
    _assert_profile_erased(city, person)
    assert city.reads.citizens.profile(OFFICER, other.id, WHY).name == "留"  # type: ignore[union-attr]
    check = city.audit.verify()
    assert check.ok and check.events == city.files.head()


def _assert_profile_erased(city: City, person: Person) -> None:
    profile = city.reads.citizens.profile(OFFICER, person.id, WHY)
    assert profile is not None and profile.erased_at is not None
    assert (profile.name, profile.id_number_masked, profile.phone_masked, profile.address) == (
        None,
        None,
        None,
        None,
    )
    assert city.reads.citizens.identifiers(OFFICER, person.id, WHY) is None
    assert city.reads.directory.search(OFFICER, person.name, None, 5, None, WHY) == []


def test_erasure_frees_the_phone_ends_every_session_and_takes_no_more_commands(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("退")
    session: TokenPair = city.tokens.issue(person.principal)
    close_account(city, people, person)
    with pytest.raises(UserError):
        city.tokens.verify(session.access_token)
    with pytest.raises(UserError):
        city.tokens.refresh(session.refresh_token)
    with pytest.raises(UserError) as refused:
        city.citizens.change_contact(person.principal, None, None, "新址")
    assert refused.value.code is ErrorCode.FILE_ERASED
    with pytest.raises(UserError) as again:
        close_account(city, people, person)
    assert again.value.code is ErrorCode.FILE_ERASED
    newcomer, _ = city.citizens.open_file(resident_id(), "新人", person.phone)  # free again
    assert newcomer.person.phone == person.phone


def test_erasure_needs_the_person_with_their_phone_or_an_admin(
    city: City, people: CitizenFactory
) -> None:
    person, other = people.register("权"), people.register("旁")
    settle(city)  # the retention schedule, read for the receipt
    with pytest.raises(UserError) as wrong_code:
        city.privacy.erase_own(person.principal, "000000")
    assert wrong_code.value.code is ErrorCode.CODE_INVALID
    for actor, ground in (
        (other.principal, ErasureGround.REQUESTED_BY_PERSON),
        (OFFICER, ErasureGround.ORDERED),
        (person.principal, ErasureGround.ORDERED),  # the person asks; an order is an admin's
    ):
        with pytest.raises(UserError) as refused:
            city.privacy.erase(actor, person.id, ground)
        assert refused.value.code is ErrorCode.FORBIDDEN
    settle(city)  # the retention schedule, read for the receipt
    city.privacy.erase(ADMIN, person.id, ErasureGround.ORDERED)
    [erased] = [e for e in city.files.events.get(person.id) if isinstance(e, Citizen.Erased)]
    assert (erased.ground, erased.by) == ("ORDERED", ADMIN.subject)


def test_a_legal_hold_keeps_a_file_from_erasure_until_lifted(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("押")
    with pytest.raises(UserError) as forbidden:
        city.privacy.place_legal_hold(person.principal, person.id, "my own case")
    assert forbidden.value.code is ErrorCode.FORBIDDEN
    city.privacy.place_legal_hold(OFFICER, person.id, "(2026)湘0702刑初118号")
    with pytest.raises(UserError) as held:
        close_account(city, people, person)
    assert held.value.code is ErrorCode.LEGAL_HOLD and "湘0702" in held.value.message
    assert not city.files.vault.is_shredded(_service(person))
    city.privacy.lift_legal_hold(ADMIN, person.id, "case closed, 2026-11-30")
    close_account(city, people, person)
    assert city.files.vault.is_shredded(_service(person))
    assert not city.files.vault.is_shredded(person.id)  # the statutory records are kept


def test_a_crash_before_the_key_is_shredded_is_finished_by_the_erasures_process(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = people.register("崩")
    code = people.code_for(person.phone)

    def crash(subject: object) -> bool:
        raise ConnectionError("the server died here")

    settle(city)  # the retention schedule, read for the receipt
    monkeypatch.setattr(city.files.vault, "shred", crash)
    with pytest.raises(ConnectionError):
        city.privacy.erase_own(person.principal, code)
    monkeypatch.undo()
    assert not city.files.vault.is_shredded(_service(person))  # recorded, not yet shredded
    assert city.runner().run_once()
    assert city.files.vault.is_shredded(_service(person))
    assert city.files.repository.get(person.id).phone is None


def test_another_process_stops_reading_an_erased_person_within_its_refresh(
    city: City, settings: Settings, people: CitizenFactory
) -> None:
    person = people.register("远")
    other = build(settings)
    try:
        other.files.vault.refresh_seconds = 0.0  # read the shreds at every use
        other_file = other.files.repository.get(person.id, deepcopy_from_cache=False)
        assert other_file.name == "远"  # its key is cached there now
        close_account(city, people, person)
        registered = next(iter(other.files.events.get(person.id)))
        assert (registered.phone, registered.name) == (None, "远")
    finally:
        other.close()


def test_a_lost_key_table_is_an_error_not_an_erasure(city: City, people: CitizenFactory) -> None:
    person = people.register("失")
    with city.db.transaction() as cur:
        cur.execute(f"DELETE FROM {city.db.table('data_keys')}")
    city.files.vault._keys.clear()  # as a fresh process would start
    city.files.vault._opening.clear()
    city.files.repository.cache = None  # type: ignore[assignment]
    with pytest.raises(DataKeyMissing):
        city.files.repository.get(person.id)


def test_every_seal_has_its_own_nonce() -> None:
    nonces = Nonces()
    drawn = [nonces.next() for _ in range(10_000)]
    assert len(set(drawn)) == len(drawn) and {len(n) for n in drawn} == {12}
    assert len({n[:8] for n in drawn}) == 1  # one prefix, counted on
    assert Nonces().next()[:8] != drawn[0][:8]  # another process's prefix


def test_a_scans_place_and_colour_are_sealed_under_the_citizens_service_activity_key(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("扫码")
    code = city.city_codes.issue(person.principal).payload
    answer = city.scans.scan(GATE, code, Purpose.TRANSIT, "武陵阁站 3号闸机")
    assert answer.scan_id is not None
    [stored] = [s for s in _states(city, _events_table(city)) if "place" in s]
    assert "武陵阁站" not in json.dumps(stored, ensure_ascii=False)
    assert (stored["place"], stored["colour"]) == (None, None)
    assert _sealed_under(stored) == {_service(person)}
    [scan] = city.files.events.get(answer.scan_id)
    assert (scan.place, scan.colour) == ("武陵阁站 3号闸机", "GREEN")
    close_account(city, people, person)
    [scan] = city.files.events.get(answer.scan_id)
    assert (scan.place, scan.colour) == (None, None)
    city.read_models.rebuild("scan_log")  # from the log alone, after the erasure
    [row] = city.read_models.rows("scan_log").get_many([str(answer.scan_id)]).values()
    assert (row["place"], row["colour"], row["place_key"]) == (None, None, None)


def test_an_approval_for_someone_erased_since_issues_nothing_and_stops_no_other_issuance(
    city: City, people: CitizenFactory
) -> None:
    def accepted(person: Person) -> UUID:
        application_id = city.applications.submit(
            person.principal,
            "PSB-002",
            {f: "一" for f in city.catalogue.item("PSB-002").form},
            documents(city, person, "PSB-002"),
        ).application.id
        city.applications.accept(PSB, application_id)
        return application_id

    gone, bride, groom, next_one = (people.register(n, verified=True) for n in "甲乙丙丁")
    permit = accepted(gone)
    marriage = city.applications.submit(
        bride.principal,
        "CAB-001",
        {f: "一" for f in city.catalogue.item("CAB-001").form},
        documents(city, bride, "CAB-001"),
        co_applicant_id_number=groom.id_number,
    ).application.id
    city.applications.confirm(groom.principal, marriage)
    city.applications.accept(CAB, marriage)
    for person in (gone, groom):  # the applicant of one, the co-applicant of the other
        close_account(city, people, person)
    city.applications.approve(PSB, permit)
    city.applications.approve(CAB, marriage)
    later = accepted(next_one)
    city.applications.approve(PSB, later)
    settle(city)
    assert city.applications.get(permit).licences == []
    assert city.applications.get(marriage).licences == []
    assert len(city.applications.get(later).licences) == 1  # the process went on
