"""The one door to personal data: who may read, what is masked, and what is recorded."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mycity.bootstrap import City
from mycity.domain.errors import ErrorCode, UserError
from mycity.identity.principal import Principal, Role
from mycity.reads.door import Access
from tests.helpers import AUDITOR, OFFICER, CitizenFactory

SOURCE = Path(__file__).parent.parent / "src" / "mycity"
READERS = {"CitizenProfiles", "EnterpriseProfiles", "DirectoryEntries", "LiveRows"}
MERCHANT = Principal("merchant-test", Role.MERCHANT, None, "测试商户")


@pytest.fixture
def accesses(city: City) -> list[Access]:
    recorded: list[Access] = []
    city.reads.door.on_access.append(recorded.append)
    return recorded


def test_staff_reads_are_recorded_and_ones_own_are_not(
    city: City, people: CitizenFactory, accesses: list[Access]
) -> None:
    person = people.register("门")
    city.read_models.catch_up()
    assert city.reads.citizens.profile(person.principal, person.id) is not None
    assert city.reads.citizens.identifiers(person.principal, person.id) is not None
    assert accesses == []
    city.reads.citizens.profile(AUDITOR, person.id)
    assert city.reads.citizens.identifiers(AUDITOR, person.id) is None  # masked for auditors
    full = city.reads.citizens.identifiers(OFFICER, person.id)
    assert full is not None and full.id_number == person.id_number
    assert [(a.reader, a.read, a.subjects, a.full) for a in accesses] == [
        (AUDITOR, "citizen.profile", (person.id,), frozenset()),
        (AUDITOR, "citizen.identifiers", (person.id,), frozenset()),
        (OFFICER, "citizen.identifiers", (person.id,), frozenset({"id_number", "phone"})),
    ]


def test_a_refused_read_records_nothing_and_reads_nothing(
    city: City, people: CitizenFactory, accesses: list[Access]
) -> None:
    person = people.register("拒")
    for reader in (MERCHANT, people.register("他").principal):
        with pytest.raises(UserError) as refused:
            city.reads.citizens.profile(reader, person.id)
        assert refused.value.code is ErrorCode.FORBIDDEN
    assert accesses == []


def test_a_search_records_each_entry_shown(
    city: City, people: CitizenFactory, accesses: list[Access]
) -> None:
    found = [people.register(f"搜{i}") for i in range(3)]
    city.read_models.catch_up()
    page = city.reads.directory.search(OFFICER, "搜", None, 2, None)
    assert len(page) == 3  # two shown, and one more to say there are more
    [access] = accesses
    assert access.read == "directory.search" and set(access.subjects) < {p.id for p in found}
    assert len(access.subjects) == 2


def test_nothing_outside_the_reads_touches_a_read_models_reader() -> None:
    """Readers of personal read models are wired in bootstrap and used only by mycity.reads."""
    offenders = []
    for path in SOURCE.rglob("*.py"):
        module = path.relative_to(SOURCE).as_posix()
        if module.startswith(("reads/", "projections/")) or module == "bootstrap.py":
            continue
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        if names & READERS:
            offenders.append(module)
    assert offenders == []
