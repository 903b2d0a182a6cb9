"""Health statuses (健康码 colours) and linked cards: the code holder, and the feeds' use cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given as examples
from hypothesis import settings
from hypothesis import strategies as st

from mycity.bootstrap import City
from mycity.domain.code_holder import DEFAULT_COLOUR, CardKind, CodeHolder, Colour, code_holder_id
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.personal import Retention
from mycity.identity.principal import Principal, Role
from mycity.store.seals import key_id
from mycity.usecases.health import HealthFeeds, read_csv, read_json
from tests.domain_helpers import fact, given, refused, then
from tests.helpers import OFFICER, CitizenFactory, Person, resident_id
from tests.services import HEALTH_FEED

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
CITIZEN = uuid4()
OPENED = fact(CodeHolder.Opened, citizen=CITIZEN)


def status_set(colour: str, valid_until: str = "", reason: str = "密接") -> Any:
    return fact(
        CodeHolder.HealthStatusSet,
        citizen=CITIZEN,
        colour=colour,
        reason=reason,
        valid_until=valid_until,
        by="feed-health",
        source_ref="",
    )


def holder(*facts: Any) -> CodeHolder:
    return given(CodeHolder, OPENED, *facts, id=code_holder_id(CITIZEN))


# -- the code holder --------------------------------------------------------------------------


def test_a_holder_is_opened_once_per_citizen_and_shows_the_default() -> None:
    opened = CodeHolder.open(CITIZEN)
    assert opened.id == code_holder_id(CITIZEN) != code_holder_id(uuid4())
    assert then(opened) == [("Opened", {"citizen": CITIZEN})]
    assert opened.colour(NOW) is DEFAULT_COLOUR is Colour.GREEN
    assert opened.linked == {}


def test_a_colour_holds_while_valid_then_the_default_returns() -> None:
    file = holder()
    until = NOW + timedelta(days=7)
    file.set_health_status(
        colour="red", reason=" 密接 ", valid_until=until, now=NOW, by="feed-health"
    )
    assert then(file) == [
        (
            "HealthStatusSet",
            {
                "citizen": CITIZEN,
                "colour": "RED",
                "reason": "密接",
                "valid_until": until.isoformat(),
                "by": "feed-health",
                "source_ref": "",
            },
        )
    ]
    assert file.colour(NOW + timedelta(days=6)) is Colour.RED
    assert file.status(NOW).valid_until == until
    lapsed = file.status(until)
    assert (lapsed.colour, lapsed.reason, lapsed.valid_until) == (DEFAULT_COLOUR, "", None)


def test_the_same_status_again_records_nothing_and_another_one_does() -> None:
    until = NOW + timedelta(days=1)
    file = holder(status_set("YELLOW", until.isoformat()))
    shifted = until.astimezone(datetime.now().astimezone().tzinfo)  # the same moment
    file.set_health_status(
        colour="YELLOW", reason="密接", valid_until=shifted, now=NOW, by="feed-health"
    )
    assert then(file) == []
    file.set_health_status(colour="YELLOW", reason="次密接", valid_until=until, now=NOW, by="f")
    file.set_health_status(colour="GREEN", reason="解除", valid_until=None, now=NOW, by="f")
    assert [(n, e["colour"], e["valid_until"]) for n, e in then(file)] == [
        ("HealthStatusSet", "YELLOW", until.isoformat()),
        ("HealthStatusSet", "GREEN", ""),
    ]
    assert file.colour(NOW + timedelta(days=3650)) is Colour.GREEN


@pytest.mark.parametrize(
    ("colour", "reason", "valid_until", "code", "field"),
    [
        ("BLUE", "密接", None, ErrorCode.INVALID_COLOUR, "colour"),
        ("RED", "", None, ErrorCode.INVALID_REASON, "reason"),
        ("RED", "密接", NOW, ErrorCode.INVALID_VALIDITY, "validUntil"),
        ("RED", "密接", datetime(2027, 1, 1), ErrorCode.INVALID_VALIDITY, "validUntil"),
    ],
)
def test_a_status_must_be_a_colour_with_a_reason_and_a_validity_to_come(
    colour: str, reason: str, valid_until: datetime | None, code: ErrorCode, field: str
) -> None:
    file = holder()
    with refused(code, field):
        file.set_health_status(
            colour=colour, reason=reason, valid_until=valid_until, now=NOW, by="f"
        )
    assert then(file) == []


def test_cards_are_linked_replaced_and_unlinked() -> None:
    file = holder()
    file.link_card(kind=CardKind.LIBRARY, number="LIB 0001 2345", by="feed-library")
    file.link_card(kind=CardKind.LIBRARY, number="LIB00012345", by="feed-library")  # the same
    file.link_card(kind=CardKind.LIBRARY, number="LIB000199", by="feed-library")
    file.link_card(kind=CardKind.TRANSIT, number="31000007", by="feed-transit")
    file.unlink_card(kind=CardKind.TRANSIT, by="feed-transit", reason="card lost")
    assert then(file) == [
        (
            "CardLinked",
            {"citizen": CITIZEN, "kind": "LIBRARY", "number": "LIB00012345", "by": "feed-library"},
        ),
        (
            "CardLinked",
            {"citizen": CITIZEN, "kind": "LIBRARY", "number": "LIB000199", "by": "feed-library"},
        ),
        (
            "CardLinked",
            {"citizen": CITIZEN, "kind": "TRANSIT", "number": "31000007", "by": "feed-transit"},
        ),
        ("CardUnlinked", {"kind": "TRANSIT", "by": "feed-transit", "reason": "card lost"}),
    ]
    assert file.linked == {CardKind.LIBRARY: "LIB000199"}
    with refused(ErrorCode.CARD_NOT_LINKED, "kind"):
        file.unlink_card(kind=CardKind.TRANSIT, by="feed-transit", reason="again")
    with refused(ErrorCode.INVALID_CARD, "number"):
        file.link_card(kind=CardKind.E_HEALTH, number="12/34", by="feed-health")


def test_an_erased_citizens_holder_reads_nothing_and_takes_no_command() -> None:
    linked = fact(CodeHolder.CardLinked, citizen=CITIZEN, kind="E_HEALTH", number=None, by="f")
    file = holder(status_set(None), linked)  # type: ignore[arg-type]  # as read once shredded
    assert file.erased and file.linked == {} and file.colour(NOW) is DEFAULT_COLOUR
    with refused(ErrorCode.FILE_ERASED):
        file.link_card(kind=CardKind.E_HEALTH, number="EH0001", by="f")


# -- the feeds --------------------------------------------------------------------------------

LIBRARY_FEED = Principal("feed-library", Role.AUTHORITY_FEED, "LIBRARY", "图书馆")
HRSS_FEED = Principal("feed-hrss", Role.AUTHORITY_FEED, "HRSS", "人社局")


@pytest.fixture
def feeds(city: City) -> HealthFeeds:
    return HealthFeeds(city.files, city.ids, city.clock.now)


def _now(city: City) -> datetime:
    return datetime.fromtimestamp(city.clock.now(), UTC)


def test_a_status_set_by_the_health_authority_reverts_when_it_lapses(
    city: City, feeds: HealthFeeds, people: CitizenFactory
) -> None:
    person = people.register("码")
    assert feeds.current(person.id) is None
    until = _now(city) + timedelta(days=14)
    feeds.set_status(HEALTH_FEED, person.id_number, "YELLOW", "次密接", until)
    head = city.files.head()
    assert feeds.set_status(HEALTH_FEED, person.id_number, "YELLOW", "次密接", until) == head
    assert city.files.head() == head  # the same again records nothing
    view = feeds.current(person.id)
    assert view is not None and (view.colour, view.reason, view.valid_until) == (
        Colour.YELLOW,
        "次密接",
        until,
    )
    city.clock.ahead = timedelta(days=14, seconds=1)
    lapsed = feeds.current(person.id)
    assert lapsed is not None and (lapsed.colour, lapsed.reason) == (DEFAULT_COLOUR, "")
    with pytest.raises(UserError) as unknown:
        feeds.set_status(HEALTH_FEED, resident_id(), "RED", "密接", None)
    assert (unknown.value.code, unknown.value.field) == (ErrorCode.NOT_FOUND, "idNumber")


def test_only_the_health_authority_sets_and_each_institution_links_its_own_cards(
    feeds: HealthFeeds, people: CitizenFactory
) -> None:
    person = people.register("权")
    health_officer = Principal("officer-health", Role.OFFICER, "HEALTH", "办事员")
    hospital = Principal("venue-hospital", Role.VENUE, "HEALTH", "医院")
    for actor in (person.principal, OFFICER, health_officer, hospital, LIBRARY_FEED):
        with pytest.raises(UserError) as refused_status:
            feeds.set_status(actor, person.id_number, "RED", "密接", None)
        assert refused_status.value.code is ErrorCode.FORBIDDEN
    for actor, kind in (
        (LIBRARY_FEED, "E_HEALTH"),
        (HEALTH_FEED, "LIBRARY"),
        (hospital, "E_HEALTH"),
    ):
        with pytest.raises(UserError) as refused_card:
            feeds.link_card(actor, person.id_number, kind, "EH000001")
        assert refused_card.value.code is ErrorCode.FORBIDDEN
    feeds.link_card(HEALTH_FEED, person.id_number, "E_HEALTH", "EH000001")
    feeds.link_card(HRSS_FEED, person.id_number, "SOCIAL_SECURITY", "S12345678")
    with pytest.raises(UserError) as not_theirs:
        feeds.unlink_card(LIBRARY_FEED, person.id_number, "SOCIAL_SECURITY", "not ours")
    assert not_theirs.value.code is ErrorCode.FORBIDDEN


def test_cards_are_linked_replaced_and_unlinked_by_their_feeds(
    city: City, feeds: HealthFeeds, people: CitizenFactory
) -> None:
    person = people.register("卡")
    feeds.link_card(LIBRARY_FEED, person.id_number, "LIBRARY", "LIB0001")
    head = city.files.head()
    feeds.link_card(LIBRARY_FEED, person.id_number, "library", " LIB0001 ")
    assert city.files.head() == head
    feeds.link_card(LIBRARY_FEED, person.id_number, "LIBRARY", "LIB0002")
    feeds.link_card(HEALTH_FEED, person.id_number, "E_HEALTH", "EH77")
    view = feeds.current(person.id)
    assert view is not None and view.cards == {
        CardKind.LIBRARY: "LIB0002",
        CardKind.E_HEALTH: "EH77",
    }
    feeds.unlink_card(LIBRARY_FEED, person.id_number, "LIBRARY", "membership ended")
    with pytest.raises(UserError) as again:
        feeds.unlink_card(LIBRARY_FEED, person.id_number, "LIBRARY", "membership ended")
    assert again.value.code is ErrorCode.CARD_NOT_LINKED
    with pytest.raises(UserError) as unknown_kind:
        feeds.link_card(LIBRARY_FEED, person.id_number, "PASSPORT", "E1234567")
    assert unknown_kind.value.code is ErrorCode.INVALID_CARD
    assert feeds.current(person.id).cards == {CardKind.E_HEALTH: "EH77"}  # type: ignore[union-attr]
    events = [type(e).__name__ for e in city.files.events.get(code_holder_id(person.id))]
    assert events == ["Opened", "CardLinked", "CardLinked", "CardLinked", "CardUnlinked"]


def _csv(city: City, people: list[Person], extra: str = "") -> str:
    week = (_now(city) + timedelta(days=7)).isoformat()
    past = (_now(city) - timedelta(days=1)).isoformat()
    a, b, c = people
    return (
        "id_number,colour,reason,valid_until\n"  # line 1
        f"{a.id_number},RED,密接,{week}\n"  # 2
        f"{b.id_number},yellow,次密接,\n"  # 3
        f"{a.id_number},RED,密接,{week}\n"  # 4: the same again
        f"{a.id_number},GREEN,解除,\n"  # 5: another status for a
        "11010519491231002Y,RED,密接,\n"  # 6: a bad ID number
        f"{resident_id()},RED,密接,\n"  # 7: nobody's
        f"{c.id_number},BLUE,密接,\n"  # 8
        f"{c.id_number},RED,密接,{past}\n"  # 9
        f'{c.id_number},RED,"多行\n原因",2026-13-01\n'  # 10-11
        "\n"  # 12
        f"{c.id_number},RED\n" + extra  # 13
    )


def test_an_import_applies_the_good_rows_reports_the_others_by_line_and_runs_again_idly(
    city: City, feeds: HealthFeeds, people: CitizenFactory
) -> None:
    persons = [people.register(n) for n in ("甲", "乙", "丙")]
    text = _csv(city, persons)
    head = city.files.head()
    report = feeds.import_statuses(HEALTH_FEED, text, "csv")
    assert [(f.line, f.code) for f in report.failures] == [
        (5, ErrorCode.INVALID_ARGUMENT),
        (6, ErrorCode.INVALID_ID_NUMBER),
        (7, ErrorCode.NOT_FOUND),
        (8, ErrorCode.INVALID_COLOUR),
        (9, ErrorCode.INVALID_VALIDITY),
        (10, ErrorCode.INVALID_VALIDITY),
        (13, ErrorCode.INVALID_ARGUMENT),
    ]
    assert "Line 2" in report.failures[0].message
    assert (report.changed, report.unchanged) == (2, 1)
    assert city.files.head() - head == 4  # two holders opened, a status on each
    assert report.position == city.files.head()
    assert feeds.current(persons[0].id).colour is Colour.RED  # type: ignore[union-attr]
    assert feeds.current(persons[1].id).colour is Colour.YELLOW  # type: ignore[union-attr]
    assert feeds.current(persons[2].id) is None
    [set_a] = [
        e
        for e in city.files.events.get(code_holder_id(persons[0].id))
        if isinstance(e, CodeHolder.HealthStatusSet)
    ]
    assert (set_a.source_ref, set_a.by) == ("line 2", HEALTH_FEED.subject)

    again = feeds.import_statuses(HEALTH_FEED, text, "csv")
    assert city.files.head() == report.position  # nothing changed
    assert (again.changed, again.unchanged, again.failures) == (0, 3, report.failures)
    with pytest.raises(UserError) as forbidden:
        feeds.import_statuses(LIBRARY_FEED, text, "csv")
    assert forbidden.value.code is ErrorCode.FORBIDDEN


def _row(id_number: str, colour: str, reason: str, **more: str) -> str:
    return json.dumps({"id_number": id_number, "colour": colour, "reason": reason, **more})


def test_a_json_import_reports_each_bad_object_by_its_line(
    city: City, feeds: HealthFeeds, people: CitizenFactory
) -> None:
    a, b = people.register("子"), people.register("丑")
    week = (_now(city) + timedelta(days=7)).isoformat()
    text = (
        "[\n"
        f"  {_row(a.id_number, 'RED', '密接', valid_until=week)},\n"
        f"  {_row(b.id_number, 'YELLOW', '次密接')},\n"
        '  {"id_number": 42, "colour": "RED", "reason": "密接"},\n'
        '  ["not", "an", "object"],\n'
        f"  {json.dumps({'id_number': b.id_number, 'colour': 'RED'})}\n"
        "]\n"
    )
    report = feeds.import_statuses(HEALTH_FEED, text, "json")
    assert [f.line for f in report.failures] == [4, 5, 6]
    assert (report.changed, report.unchanged) == (2, 0)
    head = city.files.head()
    assert feeds.import_statuses(HEALTH_FEED, text, "json").changed == 0
    assert city.files.head() == head
    broken = feeds.import_statuses(HEALTH_FEED, text.replace("]\n", ",\n  {oops}\n]"), "json")
    assert broken.failures[-1].line == 8 and broken.changed == 0


def _stored_states(city: City) -> str:
    table = city.db.table(str(city.files.recorder.events_table_name))  # type: ignore[attr-defined]
    with city.db.transaction(commit=False) as cur:
        rows = cur.execute(f"SELECT state FROM {table}").fetchall()
    cipher = city.files.mapper.cipher
    assert cipher is not None
    return json.dumps(
        [json.loads(cipher.decrypt(bytes(r["state"]))) for r in rows], ensure_ascii=False
    )


def test_card_numbers_and_statuses_are_sealed_and_unreadable_once_erased(
    city: City, feeds: HealthFeeds, people: CitizenFactory
) -> None:
    person = people.register("封")
    feeds.link_card(HEALTH_FEED, person.id_number, "E_HEALTH", "EHCARD987654")
    feeds.set_status(HEALTH_FEED, person.id_number, "RED", "阳性待复核", None)
    stored = _stored_states(city)
    assert "EHCARD987654" not in stored and "阳性待复核" not in stored
    assert feeds.current(person.id).cards == {CardKind.E_HEALTH: "EHCARD987654"}  # type: ignore[union-attr]

    city.files.vault.shred(key_id(person.id, Retention.SERVICE_ACTIVITY))  # the account closed
    assert feeds.current(person.id) is None  # though this process cached what it decoded
    city.files.repository.cache = None  # type: ignore[assignment]  # as a fresh process reads it
    assert feeds.current(person.id) is None
    linked = [
        e
        for e in city.files.events.get(code_holder_id(person.id))
        if isinstance(e, CodeHolder.CardLinked)
    ]
    assert [e.number for e in linked] == [None]


# -- the parsers ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@examples(
    st.text(alphabet=st.sampled_from([*'ab,"\n\r \t\ufeff1;[]{}:', "é"]), max_size=80)
    | st.text(max_size=80)
)
def test_any_text_is_read_as_rows_and_failures_by_line(text: str) -> None:
    header = "id_number,colour,reason,valid_until\n"
    for rows, failures in (
        read_csv(text),
        read_csv(header + text),
        read_json(text),
        read_json("[" + text),
    ):
        lines = text.count("\n") + text.count("\r") + 3
        assert all(1 <= r.line <= lines for r in rows)
        assert all(1 <= f.line <= lines for f in failures)


def test_a_long_holder_is_snapshotted_sealed_and_loads_the_same(
    city: City, feeds: HealthFeeds, people: CitizenFactory
) -> None:
    person = people.register("长")
    for i in range(100):  # Opened and 100 links: a snapshot at version 100 (card 0098)
        feeds.link_card(LIBRARY_FEED, person.id_number, "LIBRARY", f"LIBCARD{i:04d}")
    table = "stored_snapshots" if city.db.dialect == "sqlite" else "cityfiles_snapshots"
    with city.db.transaction(commit=False) as cur:
        [row] = cur.execute(f"SELECT state FROM {city.db.table(table)}").fetchall()
    cipher = city.files.mapper.cipher
    assert cipher is not None and b"LIBCARD0098" not in cipher.decrypt(bytes(row["state"]))
    city.files.repository.cache = None  # type: ignore[assignment]
    assert feeds.current(person.id).cards == {CardKind.LIBRARY: "LIBCARD0099"}  # type: ignore[union-attr]
