"""The one door to personal data: who may read, what is masked, and what is recorded."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mycity.bootstrap import City
from mycity.domain.errors import ErrorCode, UserError
from mycity.identity.principal import Principal, Role
from tests.helpers import AUDITOR, OFFICER, WHY, CitizenFactory, access_records

SOURCE = Path(__file__).parent.parent / "src" / "mycity"
READERS = {"CitizenProfiles", "EnterpriseProfiles", "DirectoryEntries", "LiveRows"}
MERCHANT = Principal("merchant-test", Role.MERCHANT, None, "测试商户")


def test_staff_reads_are_recorded_in_the_log_and_ones_own_are_not(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("门")
    city.read_models.catch_up()
    assert city.reads.citizens.profile(person.principal, person.id) is not None
    assert city.reads.citizens.identifiers(person.principal, person.id) is not None
    assert access_records(city) == []
    city.reads.citizens.profile(AUDITOR, person.id, WHY)
    assert city.reads.citizens.identifiers(AUDITOR, person.id, WHY) is None  # masked
    full = city.reads.citizens.identifiers(OFFICER, person.id, "case 2026-117: in person")
    assert full is not None and full.id_number == person.id_number
    assert [
        (a.reader, a.reader_role, a.read, a.subjects, a.unmasked, a.purpose)
        for a in access_records(city)
    ] == [
        ("auditor-test", "AUDITOR", "citizen.profile", [person.id], [], WHY),
        ("auditor-test", "AUDITOR", "citizen.identifiers", [person.id], [], WHY),
        (
            "officer-test",
            "OFFICER",
            "citizen.identifiers",
            [person.id],
            ["id_number", "phone"],
            "case 2026-117: in person",
        ),
    ]


@pytest.mark.parametrize("purpose", [None, "", "   ", "ab"])
def test_staff_without_a_purpose_are_refused_before_anything_is_read(
    city: City, people: CitizenFactory, purpose: str | None
) -> None:
    person = people.register("因")
    for read in (city.reads.citizens.profile, city.reads.citizens.identifiers):
        with pytest.raises(UserError) as refused:
            read(OFFICER, person.id, purpose)
        wanted = ErrorCode.INVALID_PURPOSE if purpose == "ab" else ErrorCode.PURPOSE_REQUIRED
        assert (refused.value.code, refused.value.field) == (wanted, "purpose")
    with pytest.raises(UserError) as refused:
        city.reads.directory.search(OFFICER, "因", None, 5, None, purpose)
    assert refused.value.field == "purpose"
    assert access_records(city) == []


def test_a_refused_read_records_nothing_and_reads_nothing(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("拒")
    for reader in (MERCHANT, people.register("他").principal):
        with pytest.raises(UserError) as refused:
            city.reads.citizens.profile(reader, person.id, WHY)
        assert refused.value.code is ErrorCode.FORBIDDEN
    assert access_records(city) == []


def test_a_search_records_each_entry_shown(city: City, people: CitizenFactory) -> None:
    found = [people.register("同名") for _ in range(3)]
    city.read_models.catch_up()
    page = city.reads.directory.search(OFFICER, "同名", None, 2, None, WHY)
    assert len(page) == 3  # two shown, and one more to say there are more
    [access] = access_records(city)
    assert access.read == "directory.search" and set(access.subjects) < {p.id for p in found}
    assert len(access.subjects) == 2


def test_the_person_sees_every_read_of_their_data(city: City, people: CitizenFactory) -> None:
    person, other = people.register("看"), people.register("别")
    city.reads.citizens.profile(OFFICER, person.id, "counter: renewing a permit")
    city.reads.citizens.profile(OFFICER, other.id, "counter: someone else")
    city.read_models.catch_up()
    [seen] = city.reads.access.of_person(person.principal, person.id, 10, None)
    assert (seen.reader_role, seen.reader_department, seen.read, seen.purpose) == (
        "OFFICER",
        "SAMR",
        "citizen.profile",
        "counter: renewing a permit",
    )
    assert "name" in seen.fields and seen.unmasked == ()
    with pytest.raises(UserError) as refused:
        city.reads.access.of_person(other.principal, person.id, 10, None)
    assert refused.value.code is ErrorCode.FORBIDDEN
    audited = city.reads.access.of_person(AUDITOR, person.id, 10, None, WHY)
    assert [a.purpose for a in audited] == ["counter: renewing a permit"]


COMPOSITION = frozenset({"bootstrap.py", "bootstrap_reads.py"})  # where readers are wired


def test_nothing_outside_the_reads_touches_a_read_models_reader() -> None:
    """Readers of personal read models are wired in bootstrap and used only by mycity.reads."""
    offenders = []
    for path in SOURCE.rglob("*.py"):
        module = path.relative_to(SOURCE).as_posix()
        if module.startswith(("reads/", "projections/")) or module in COMPOSITION:
            continue
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        if names & READERS:
            offenders.append(module)
    assert offenders == []
