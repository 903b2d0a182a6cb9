"""Scanning the city code: what each partner role is told, what is recorded on the
citizen's file, single-use payment codes, offline batches, place codes, and the scan logs."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mycity.bootstrap import City
from mycity.domain.code_holder import CardKind, Colour
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.personal import Retention
from mycity.domain.scan import Scan
from mycity.identity.principal import Principal, Role
from mycity.store.seals import key_id
from mycity.usecases.scans import MAX_BATCH, OfflineScan, Outcome
from mycity.verifier.city_code import Purpose
from tests.helpers import OFFICER, CitizenFactory, Person
from tests.services import GATE, HEALTH_FEED, settle

HOSPITAL = Principal("hospital-test", Role.HOSPITAL, None, "测试医院")
LIBRARY = Principal("library-test", Role.LIBRARY, None, "测试图书馆")
SHOP = Principal("shop-test", Role.MERCHANT, None, "测试商店")
VENUE = Principal("venue-test", Role.VENUE, None, "测试场馆")
LIBRARY_FEED = Principal("feed-library", Role.AUTHORITY_FEED, "LIBRARY", "图书馆")
WHY = "counting visitors at the front desk"


def code(city: City, person: Person) -> str:
    return city.city_codes.issue(person.principal).payload


def scans_of(city: City, person: Person) -> list[Scan]:
    settle(city)
    rows = city.reads.scans.mine(person.principal, 50, None)
    return [city.files.read(Scan, row.id) for row in rows]


@pytest.fixture
def carded(city: City, people: CitizenFactory) -> Person:
    person = people.register("扫")
    city.health.link_card(HEALTH_FEED, person.id_number, "E_HEALTH", "EHC-0001")
    city.health.link_card(LIBRARY_FEED, person.id_number, "LIBRARY", "LIB-0001")
    return person


def test_each_role_is_told_only_what_it_needs(city: City, carded: Person) -> None:
    gate = city.scans.scan(GATE, code(city, carded), Purpose.TRANSIT, "武陵阁站 3号闸机")
    assert gate.ok and gate.told.allowed is True
    assert (gate.told.colour, gate.told.card_number) == (None, None)
    hospital = city.scans.scan(HOSPITAL, code(city, carded), Purpose.HEALTH, "门诊大厅")
    assert (hospital.told.card, hospital.told.card_number) == (CardKind.E_HEALTH, "EHC-0001")
    assert (hospital.told.allowed, hospital.told.colour) == (None, None)
    library = city.scans.scan(LIBRARY, code(city, carded), Purpose.IDENTITY, "借还台")
    assert (library.told.card, library.told.card_number) == (CardKind.LIBRARY, "LIB-0001")
    shop = city.scans.scan(SHOP, code(city, carded), Purpose.HEALTH, "收银台 1")
    assert shop.told.colour is Colour.GREEN
    assert (shop.told.allowed, shop.told.card, shop.told.card_number) == (None, None, None)

    recorded = {s.partner: s for s in scans_of(city, carded)}
    assert set(recorded) == {"gate-test", "hospital-test", "library-test", "shop-test"}
    gate_scan = city.files.read(Scan, gate.scan_id)  # type: ignore[arg-type]
    assert (gate_scan.citizen, gate_scan.version) == (carded.id, 1)
    [event] = city.files.events.get(gate.scan_id)  # type: ignore[arg-type]
    assert (event.place, event.purpose, event.colour, event.shown) == (  # type: ignore[attr-defined]
        "武陵阁站 3号闸机",
        "TRANSIT",
        "GREEN",
        ["allowed"],
    )


def test_a_gate_turns_away_a_red_code_and_the_server_knows_the_colour_first(
    city: City, carded: Person
) -> None:
    shown = code(city, carded)  # green when issued
    city.health.set_status(HEALTH_FEED, carded.id_number, "RED", "密接", None)
    denied = city.scans.scan(GATE, shown, Purpose.TRANSIT, "gate 1")
    assert denied.ok and denied.told.allowed is False
    [event] = city.files.events.get(denied.scan_id)  # type: ignore[arg-type]
    assert event.colour == "GREEN"  # type: ignore[attr-defined]  # what the code showed


def test_a_role_scans_only_for_its_purposes_and_others_not_at_all(
    city: City, carded: Person
) -> None:
    with pytest.raises(UserError) as gate_for_payment:
        city.scans.scan(GATE, code(city, carded), Purpose.PAYMENT, "gate 1")
    assert gate_for_payment.value.code is ErrorCode.PURPOSE_NOT_ALLOWED
    for actor in (carded.principal, OFFICER, HEALTH_FEED, None):
        with pytest.raises(UserError) as refused:
            city.scans.scan(actor, code(city, carded), Purpose.HEALTH, "desk")
        with pytest.raises(UserError) as refused_offline:
            city.scans.upload_offline(actor, [_offline(city, carded, Purpose.HEALTH)])
        assert refused.value.code == refused_offline.value.code
        assert refused.value.code in (ErrorCode.FORBIDDEN, ErrorCode.UNAUTHENTICATED)
    with pytest.raises(UserError) as no_place:
        city.scans.scan(SHOP, code(city, carded), Purpose.HEALTH, "  \n ")
    assert no_place.value.code is ErrorCode.INVALID_PLACE
    assert scans_of(city, carded) == []


def test_bad_codes_get_their_reason_and_record_nothing(city: City, carded: Person) -> None:
    good = code(city, carded)
    head = city.files.head()
    tampered = good[:20] + ("A" if good[20] != "A" else "B") + good[21:]
    assert city.scans.scan(SHOP, tampered, Purpose.HEALTH, "till").outcome in (
        Outcome.BAD_SIGNATURE,
        Outcome.MALFORMED,
    )
    assert city.scans.scan(SHOP, "MC1:nonsense", Purpose.HEALTH, "till").outcome is (
        Outcome.MALFORMED
    )
    city.clock.ahead = timedelta(seconds=60 + 31)
    assert city.scans.scan(SHOP, good, Purpose.HEALTH, "till").outcome is Outcome.EXPIRED
    city.clock.ahead = timedelta(seconds=-31)
    assert city.scans.scan(SHOP, good, Purpose.HEALTH, "till").outcome is Outcome.NOT_YET_VALID
    assert city.files.head() == head


def test_a_payment_code_is_redeemed_once_even_when_two_tills_race(
    city: City, carded: Person
) -> None:
    first = code(city, carded)
    assert city.scans.scan(SHOP, first, Purpose.PAYMENT, "till 1").ok
    again = city.scans.scan(SHOP, first, Purpose.PAYMENT, "till 2")
    assert again.outcome is Outcome.ALREADY_USED
    assert city.scans.scan(SHOP, first, Purpose.HEALTH, "till 1").ok  # other purposes: any

    for _ in range(3):
        assert sorted(_race(city, code(city, carded))) == sorted(
            [Outcome.VALID] + [Outcome.ALREADY_USED] * 3
        )


def _race(city: City, payload: str, tills: int = 4) -> list[Outcome]:
    """Each till scans the payment code at once: their outcomes."""
    outcomes: list[Outcome] = []
    start = threading.Barrier(tills)

    def redeem() -> None:
        start.wait()
        outcomes.append(city.scans.scan(SHOP, payload, Purpose.PAYMENT, "till").outcome)

    threads = [threading.Thread(target=redeem) for _ in range(tills)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_scans_of_many_citizens_all_land_once(
    city: City, people: CitizenFactory
) -> None:
    persons = [people.register(f"众{i}") for i in range(12)]
    codes = {p.id: code(city, p) for p in persons}
    committer = city.files.group_commit
    batches_before = committer.batches
    start = threading.Barrier(len(persons))
    answers = []
    save, first = committer._save, threading.Event()

    def first_save_waits_for_company(events: Any) -> Any:
        if not first.is_set():
            first.set()
            time.sleep(0.2)  # the other scans queue behind it meanwhile
        return save(events)

    committer._save = first_save_waits_for_company  # type: ignore[method-assign]

    def scan(person: Person) -> None:
        start.wait()
        answers.append(city.scans.scan(GATE, codes[person.id], Purpose.TRANSIT, "gate"))

    threads = [threading.Thread(target=scan, args=(p,)) for p in persons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(a.ok for a in answers) and len({a.scan_id for a in answers}) == len(persons)
    assert committer.batches - batches_before < len(persons) // 2  # they went in batches
    for person in persons:
        assert len(scans_of(city, person)) == 1


def _offline(city: City, person: Person, purpose: Purpose = Purpose.TRANSIT) -> OfflineScan:
    now = datetime.fromtimestamp(city.clock.now(), UTC)
    return OfflineScan(code(city, person), purpose, "bus 12", now)


def test_an_offline_batch_records_each_scan_once_and_reports_bad_items_by_index(
    city: City, people: CitizenFactory
) -> None:
    riders = [people.register(f"乘{i}") for i in range(3)]
    items = [_offline(city, r) for r in riders]
    bad_time = OfflineScan(items[0].payload, Purpose.TRANSIT, "bus 12", datetime(2020, 1, 1))
    forged = OfflineScan("MC1:" + "0" * 146, Purpose.TRANSIT, "bus 12", items[0].scanned_at)
    wrong = OfflineScan(items[1].payload, Purpose.PAYMENT, "bus 12", items[1].scanned_at)
    batch = [items[0], bad_time, items[1], items[0], forged, wrong, items[2]]
    results = city.scans.upload_offline(GATE, batch)
    assert [r.index for r in results] == list(range(len(batch)))
    assert [r.answer.ok if r.answer else None for r in results] == [
        True, None, True, True, False, None, True,
    ]  # fmt: skip
    assert results[3].answer.duplicate  # type: ignore[union-attr]
    assert results[1].error.code is ErrorCode.INVALID_TIME  # type: ignore[union-attr]
    assert results[4].answer.outcome is Outcome.MALFORMED  # type: ignore[union-attr]
    assert results[5].error.code is ErrorCode.PURPOSE_NOT_ALLOWED  # type: ignore[union-attr]

    head = city.files.head()
    again = city.scans.upload_offline(GATE, items)
    assert all(r.answer and r.answer.ok and r.answer.duplicate for r in again)
    assert city.files.head() == head  # the same batch again records nothing
    for rider in riders:
        assert len(scans_of(city, rider)) == 1
    with pytest.raises(UserError) as too_many:
        city.scans.upload_offline(GATE, [items[0]] * (MAX_BATCH + 1))
    assert too_many.value.code is ErrorCode.TOO_MANY_ITEMS
    assert city.scans.upload_offline(GATE, []) == []


def test_an_offline_payment_already_redeemed_online_is_refused(city: City, carded: Person) -> None:
    item = _offline(city, carded, Purpose.PAYMENT)
    assert city.scans.scan(SHOP, item.payload, Purpose.PAYMENT, "till").ok
    other_shop = Principal("shop-other", Role.MERCHANT, None, "另一家")
    [result] = city.scans.upload_offline(other_shop, [item])
    assert result.answer is not None and result.answer.outcome is Outcome.ALREADY_USED


def test_an_offline_scan_is_checked_at_the_moment_the_device_read_it(
    city: City, carded: Person
) -> None:
    item = _offline(city, carded)
    city.clock.ahead = timedelta(hours=5)  # uploaded hours later: the code had been fresh
    [late] = city.scans.upload_offline(GATE, [item])
    assert late.answer is not None and late.answer.ok


def test_an_erased_citizens_code_resolves_to_no_one_and_no_trace_finds_them(
    city: City, carded: Person
) -> None:
    shown = code(city, carded)
    assert city.scans.scan(VENUE, shown, Purpose.HEALTH, "大堂").ok
    settle(city)
    since = datetime.fromtimestamp(city.clock.now() - 60, UTC)
    until = since + timedelta(minutes=5)

    def traced() -> set[object]:
        found = city.reads.scans.contact_trace(
            HEALTH_FEED, "venue-test", "大堂", since, until, "确诊病例密接排查"
        )
        return {c.citizen for c in found}

    assert traced() == {carded.id}
    city.files.vault.shred(key_id(carded.id, Retention.SERVICE_ACTIVITY))  # the account closed
    answer = city.scans.scan(SHOP, shown, Purpose.HEALTH, "till")
    assert answer.outcome is Outcome.UNKNOWN_CITIZEN and answer.scan_id is None
    assert traced() == set()  # where they were is unreadable, and not searchable either


def test_a_citizen_checks_in_with_a_place_code_once_per_visit(city: City, carded: Person) -> None:
    city.clients.add("venue-test", Role.VENUE, "测试场馆")
    poster, png = city.scans.place_code(VENUE, "正门")
    assert poster.startswith("MP1:") and png is None
    visit = city.scans.check_in(carded.principal, poster)
    assert (visit.partner_name, visit.place) == ("测试场馆", "正门")
    assert city.scans.check_in(carded.principal, poster).scan_id == visit.scan_id  # a retry
    forged = poster[:10] + ("A" if poster[10] != "A" else "B") + poster[11:]
    with pytest.raises(UserError) as refused:
        city.scans.check_in(carded.principal, forged)
    assert refused.value.code is ErrorCode.CODE_INVALID
    with pytest.raises(UserError) as not_a_venue:
        city.scans.place_code(carded.principal, "正门")
    assert not_a_venue.value.code is ErrorCode.FORBIDDEN
    [scan] = scans_of(city, carded)
    assert (scan.partner, scan.id) == ("venue-test", visit.scan_id)


def test_a_venue_sees_its_own_scans_masked_and_a_trace_names_people_for_a_reason(
    city: City, people: CitizenFactory
) -> None:
    a, b = people.register("甲"), people.register("乙")
    for person in (a, b, a):
        city.scans.scan(VENUE, code(city, person), Purpose.HEALTH, "大堂")
    city.scans.scan(SHOP, code(city, b), Purpose.HEALTH, "大堂")
    settle(city)

    seen = city.reads.scans.at_venue(VENUE, 10, None, WHY)
    assert len(seen) == 3 and {s.scan.partner for s in seen} == {"venue-test"}
    visitors = [s.visitor for s in seen]
    assert visitors[0] == visitors[2] != visitors[1]  # newest first: a, b, a
    assert all(str(p.id) not in v for p in (a, b) for v in visitors)
    shop_sees = city.reads.scans.at_venue(SHOP, 10, None, WHY)
    assert [s.visitor for s in shop_sees] != [visitors[1]]  # unlinkable across partners
    with pytest.raises(UserError) as no_reason:
        city.reads.scans.at_venue(VENUE, 10, None, None)
    assert no_reason.value.code is ErrorCode.PURPOSE_REQUIRED

    since = datetime.fromtimestamp(city.clock.now() - 3600, UTC)
    until = since + timedelta(hours=2)
    traced = city.reads.scans.contact_trace(
        HEALTH_FEED, "venue-test", "大堂", since, until, "确诊病例密接排查"
    )
    assert {c.citizen for c in traced} == {a.id, b.id}
    assert {c.phone for c in traced} == {a.phone, b.phone}
    for outsider in (VENUE, OFFICER, LIBRARY_FEED, a.principal):
        with pytest.raises(UserError) as refused:
            city.reads.scans.contact_trace(outsider, "venue-test", "大堂", since, until, "x")
        assert refused.value.code is ErrorCode.FORBIDDEN
    with pytest.raises(UserError) as unstated:
        city.reads.scans.contact_trace(HEALTH_FEED, "venue-test", "大堂", since, until, "")
    assert unstated.value.code is ErrorCode.PURPOSE_REQUIRED
    settle(city)
    reads = city.reads.access.of_person(a.principal, a.id, 20, None)
    assert "city_code.contact_trace" in {r.read for r in reads}
    assert "city_code.scan" in {r.read for r in reads}  # each scan is a read of their data


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.one_of(st.text(max_size=200), st.text(alphabet="0123456789ABC: ", max_size=160)),
    place=st.text(max_size=80),
    purpose=st.sampled_from(list(Purpose)),
)
def test_any_input_gets_an_outcome_or_a_typed_error_and_records_nothing(
    city: City, payload: str, place: str, purpose: Purpose
) -> None:
    head = city.files.head()
    refusal: ErrorCode | None = None
    try:
        answer = city.scans.scan(SHOP, "MC1:" + payload, purpose, place)
    except UserError as e:
        refusal = e.code
    else:
        assert not answer.ok and answer.scan_id is None
    assert refusal in (None, ErrorCode.INVALID_PLACE, ErrorCode.PURPOSE_NOT_ALLOWED)
    assert city.files.head() == head
