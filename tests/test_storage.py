"""The application on each store: uniqueness in the store itself, races, retries, adapters."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from mycity.bootstrap import City
from mycity.domain.citizen import Citizen
from mycity.domain.code_holder import CodeHolder, code_holder_id
from mycity.domain.errors import ErrorCode, UserError
from mycity.identity.principal import Principal, Role
from mycity.identity.subjects import SubjectIds
from tests.helpers import (
    OFFICER,
    WHY,
    CitizenFactory,
    citizen_id_by_phone,
    credit_code,
    join_all,
    phone,
    resident_id,
)


def _race(*commands: Callable[[], Any]) -> list[Any]:
    """Start the commands at the same instant; return each one's result or error."""
    barrier = threading.Barrier(len(commands), timeout=30)
    results: list[Any] = [None] * len(commands)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = commands[i]()
        except UserError as e:
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(commands))]
    for t in threads:
        t.start()
    assert join_all(threads), "a racer never finished"
    return results


def test_two_registrations_of_one_person_at_once_make_one_file(city: City) -> None:
    number = resident_id(901)
    results = _race(
        lambda: city.citizens.open_file(number, "甲", phone(901)),
        lambda: city.citizens.open_file(number, "甲", phone(902)),
    )
    errors = [r for r in results if isinstance(r, UserError)]
    assert len(errors) == 1 and errors[0].code is ErrorCode.ALREADY_REGISTERED
    assert errors[0].field == "idNumber"


def test_two_people_taking_one_phone_at_once(city: City) -> None:
    mobile = phone(903)
    results = _race(
        lambda: city.citizens.open_file(resident_id(903), "甲", mobile),
        lambda: city.citizens.open_file(resident_id(904), "乙", mobile),
    )
    errors = [r for r in results if isinstance(r, UserError)]
    assert len(errors) == 1 and errors[0].code is ErrorCode.PHONE_IN_USE
    winner = next(r for r in results if not isinstance(r, UserError))[0]
    assert citizen_id_by_phone(city, mobile) == winner.id


def test_two_writers_on_one_file_both_land(city: City, people: CitizenFactory) -> None:
    person = people.register("丙")
    _race(
        lambda: city.citizens.change_contact(person.principal, None, None, "甲路1号"),
        lambda: city.citizens.change_contact(person.principal, None, None, "乙路2号"),
    )
    citizen = city.files.repository.get(person.id)
    assert citizen.version == 3  # registered, then both changes, one retried after the other
    assert citizen.address in {"甲路1号", "乙路2号"}


def test_ids_are_keyed_hashes_not_numbers(city: City, people: CitizenFactory) -> None:
    person = people.register("丁")
    assert person.id == city.ids.citizen(person.id_number)
    assert person.id != SubjectIds(b"another key" * 3).citizen(person.id_number)
    assert person.id_number[:6] not in str(person.id).replace("-", "")


def test_a_new_phone_moves_the_claim(city: City, people: CitizenFactory) -> None:
    person = people.register("戊")
    new = phone(905)
    city.citizens.change_contact(person.principal, new, people.code_for(new), None)
    assert citizen_id_by_phone(city, new) == person.id
    assert citizen_id_by_phone(city, person.phone) is None
    other, _ = city.citizens.open_file(resident_id(906), "己", person.phone)
    assert citizen_id_by_phone(city, person.phone) == other.id
    with pytest.raises(UserError) as taken:
        city.citizens.change_contact(
            person.principal, person.phone, people.code_for(person.phone), None
        )
    assert taken.value.code is ErrorCode.PHONE_IN_USE


def test_real_name_check_through_the_adapter(city: City, people: CitizenFactory) -> None:
    unknown = people.register("庚")
    with pytest.raises(UserError) as no_record:
        city.citizens.verify_real_name(unknown.principal)
    assert no_record.value.code is ErrorCode.REAL_NAME_UNAVAILABLE

    impostor = people.register("辛")
    city.real_names.add(impostor.id_number, "真名")  # type: ignore[attr-defined]
    with pytest.raises(UserError) as mismatch:
        city.citizens.verify_real_name(impostor.principal)
    assert mismatch.value.code is ErrorCode.REAL_NAME_MISMATCH

    verified = people.register("壬", verified=True)
    assert city.files.repository.get(verified.id).real_name_level == "VERIFIED"
    city.citizens.verify_in_person(OFFICER, verified.id)
    assert city.files.repository.get(verified.id).real_name_level == "VERIFIED_IN_PERSON"


def test_an_enterprise_needs_a_registered_representative(
    city: City, people: CitizenFactory
) -> None:
    with pytest.raises(UserError) as missing:
        city.enterprises.register(OFFICER, credit_code(907), "癸公司", resident_id(907))
    assert missing.value.code is ErrorCode.LEGAL_REPRESENTATIVE_NOT_REGISTERED
    person = people.register("子", verified=True)
    enterprise, _ = city.enterprises.register(OFFICER, credit_code(908), "子公司", person.id_number)
    assert enterprise.legal_representative_id == person.id
    with pytest.raises(UserError) as again:
        city.enterprises.register(person.principal, credit_code(908), "子公司")
    assert again.value.code is ErrorCode.ALREADY_REGISTERED


def test_a_citizen_cannot_register_an_enterprise_for_someone_else(
    city: City, people: CitizenFactory
) -> None:
    person, other = people.register("丑"), people.register("寅")
    with pytest.raises(UserError) as refused:
        city.enterprises.register(person.principal, credit_code(909), "寅公司", other.id_number)
    assert refused.value.code is ErrorCode.FORBIDDEN


def test_citizen_b_cannot_read_citizen_a(city: City, people: CitizenFactory) -> None:
    a, b = people.register("卯"), people.register("辰")
    city.read_models.catch_up()
    with pytest.raises(UserError) as refused:
        city.reads.citizens.profile(b.principal, a.id)
    assert refused.value.code is ErrorCode.FORBIDDEN
    assert city.reads.citizens.profile(a.principal, a.id).name == "卯"  # type: ignore[union-attr]
    assert city.reads.citizens.profile(OFFICER, a.id, WHY).name == "卯"  # type: ignore[union-attr]


def test_the_real_name_check_is_asked_once_even_when_the_save_is_retried(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = people.register("问")
    city.real_names.add(person.id_number, person.name)  # type: ignore[attr-defined]
    asked: list[str] = []
    check = city.real_names.check
    monkeypatch.setattr(
        city.real_names, "check", lambda *a, **k: (asked.append(a[0]), check(*a, **k))[1]
    )
    commit, lost = city.files.commit, []

    def lose_the_first_race(*aggregates: Any) -> int:
        if not lost:
            lost.append(True)
            for aggregate in aggregates:
                aggregate.collect_events()
            raise IntegrityError("another writer took the version")
        return commit(*aggregates)

    monkeypatch.setattr(city.files, "commit", lose_the_first_race)
    city.citizens.verify_real_name(person.principal)
    assert lost and asked == [person.id_number]  # one external call for two tries
    assert city.files.read(Citizen, person.id).real_name_level == "VERIFIED"


def test_a_read_inside_a_write_does_not_stall_a_queued_writer(city: City) -> None:
    """A read model's fold writes in one transaction and, within it, reads data keys; a
    command may meanwhile be queued for the writer. Neither may wait for the other."""
    db = city.files.vault.db
    table = db.table("nested_probe")
    db.create_tables([f"CREATE TABLE IF NOT EXISTS {table} (name TEXT PRIMARY KEY)"])
    queued_done = threading.Event()
    failures: list[BaseException] = []

    def queued_writer() -> None:
        try:
            with db.transaction() as cur:
                cur.execute(f"INSERT INTO {table} (name) VALUES (?)", ("queued",))
        except BaseException as e:  # reported below
            failures.append(e)
        queued_done.set()

    with db.transaction() as cur:
        cur.execute(f"INSERT INTO {table} (name) VALUES (?)", ("outer",))
        other = threading.Thread(target=queued_writer)
        other.start()
        other.join(timeout=0.3)  # let it queue for the writer (SQLite) or commit (PostgreSQL)
        with db.read() as inner:
            assert inner.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"] >= 1
        with pytest.raises(RuntimeError):
            insert_then_fail(db, table)
        with db.transaction() as inner:
            inner.execute(f"INSERT INTO {table} (name) VALUES (?)", ("inner",))
    other.join()
    assert queued_done.is_set() and not failures
    with db.read() as cur:
        names = {r["name"] for r in cur.execute(f"SELECT name FROM {table}").fetchall()}
    assert names == {"outer", "inner", "queued"}


def insert_then_fail(db: Any, table: str) -> None:
    with db.transaction() as inner:
        inner.execute(f"INSERT INTO {table} (name) VALUES (?)", ("rolled back",))
        raise RuntimeError("the inner block fails alone")


def test_many_short_files_read_in_one_query_are_the_files_as_loaded(
    city: City, people: CitizenFactory
) -> None:
    feed = Principal("feed-health", Role.AUTHORITY_FEED, "HEALTH", "卫健委")
    persons = [people.register(f"读{i}") for i in range(3)]
    for i, person in enumerate(persons):
        city.health.link_card(feed, person.id_number, "E_HEALTH", f"EH-{i}000")
        city.health.set_status(feed, person.id_number, "YELLOW", "次密接", None)
    ids = [code_holder_id(p.id) for p in persons]
    found = city.files.read_many(city.db, CodeHolder, [*ids, uuid4(), persons[0].id])
    assert set(found) == set(ids)  # no such file, or a Citizen: left out
    for holder_id, holder in found.items():
        loaded = city.files.read(CodeHolder, holder_id)
        assert (holder.version, holder.citizen, holder.linked, holder.status_colour) == (
            loaded.version,
            loaded.citizen,
            loaded.linked,
            "YELLOW",
        )
    assert city.files.existing(city.db, [*ids, uuid4()]) == set(ids)
    again = city.files.read_many(city.db, CodeHolder, [ids[0]] * 1200)  # past SQLite's chunks
    assert again[ids[0]].version == found[ids[0]].version
    assert city.files.read_many(city.db, CodeHolder, []) == {}


def test_a_file_is_asked_whether_it_holds_an_event_of_a_kind(
    city: City, people: CitizenFactory
) -> None:
    feed = Principal("feed-health", Role.AUTHORITY_FEED, "HEALTH", "卫健委")
    person = people.register("问")
    holder = code_holder_id(person.id)
    city.health.link_card(feed, person.id_number, "E_HEALTH", "EH-1000")
    linked, unlinked = CodeHolder.CardLinked, CodeHolder.CardUnlinked
    assert city.files.holds(city.db, holder, [linked])
    assert city.files.holds(city.db, holder, [unlinked, linked])
    assert not city.files.holds(city.db, holder, [unlinked, CodeHolder.HealthStatusSet])
    assert not city.files.holds(city.db, uuid4(), [linked])  # no such file
    assert not city.files.holds(city.db, person.id, [linked])  # another file's kinds


def test_ids_looked_up_many_at_once_are_the_rows_asked_and_nothing_else(city: City) -> None:
    """Past one chunk of 500 (the last chunk of one), missing ids left out, each row's
    values by position; a cursor used after it still answers by name."""
    db = city.files.vault.db
    table = db.table("id_probe")
    blob = "BYTEA" if db.dialect == "postgres" else "BLOB"
    db.create_tables([f"CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, body {blob})"])
    stored = {str(uuid4()): bytes([i % 256]) * 3 for i in range(1001)}
    with db.transaction() as cur:
        cur.executemany(f"INSERT INTO {table} (id, body) VALUES (?, ?)", list(stored.items()))
    asked = [*stored, str(uuid4())]
    with db.read() as cur:
        rows = cur.select_ids(f"SELECT id, body FROM {table} WHERE id", asked)
        assert {r[0]: bytes(r[1]) for r in rows} == stored and len(rows) == 1001
        assert cur.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"] == 1001
        assert cur.select_ids(f"SELECT id, body FROM {table} WHERE id", []) == []
        if db.dialect == "postgres":  # never prepared: no generic plan without the values
            for _ in range(8):
                cur.select_ids(f"SELECT id, body FROM {table} WHERE id", asked[:3])
                cur.select_any(f"SELECT id, body FROM {table} WHERE id", asked[:3])
            prepared = cur.execute(
                "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE ?",
                ("%id_probe%",),
            ).fetchone()["n"]
            assert prepared == 0


@pytest.mark.parametrize("bad", ['a"b', "a\\b"])
def test_an_id_that_would_break_out_of_its_array_is_refused(city: City, bad: str) -> None:
    """PostgreSQL gets the ids as one array literal: an id that could end it is refused,
    not quoted; SQLite's placeholders take any text."""
    db = city.files.vault.db
    query = f"SELECT subject FROM {db.table('data_keys')} WHERE subject"
    with db.read() as cur:
        if db.dialect == "sqlite":
            assert cur.select_ids(query, [bad]) == []
            return
        with pytest.raises(ValueError, match="quote or a backslash"):
            cur.select_ids(query, [bad])
