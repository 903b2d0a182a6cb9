"""Rebuilds and upgrades survive erasure: an erased person's events fold with their fields
as nulls, and every read model rebuilt from a log holding erased people equals the live one."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from mycity.bootstrap import City
from mycity.cli import cli
from mycity.domain.citizen import ErasureGround
from mycity.projections.read_models import PROJECTIONS, ReadModels
from tests.helpers import ADMIN, CitizenFactory, Person
from tests.services import licensed, paid_and_rode, scanned, settle
from tests.test_applications import marry


def rows(city: City, name: str) -> list[dict[str, Any]]:
    """Every row as readers see it (personal columns opened: sealed, they differ each time)."""
    view = city.read_models.rows(name)
    return view.select(f"ORDER BY {view.spec.key}", [])


def a_city_with_the_erased(city: City, people: CitizenFactory) -> list[Person]:
    """A person erased in each kind of file: scans, payments and fares, applications and a
    licence and its use, a marriage (the bride erased, the groom not), an enterprise's
    representative."""
    scanned_one, founder, bride, groom = (
        people.register(name, verified=True) for name in ("扫码", "创业", "新娘", "新郎")
    )
    scanned(city, scanned_one)
    paid_and_rode(city, scanned_one)  # a payment, a refund and a ride on credit
    licensed(city, founder)  # AMR-001: an enterprise, its representative, a licence used
    marry(city, bride, groom)
    settle(city)
    erased = [scanned_one, founder, bride]
    for person in erased:
        settle(city)  # the retention schedule, read for the receipt
        city.privacy.erase(ADMIN, person.id, ErasureGround.REQUESTED_BY_PERSON)
    settle(city)
    return erased


def test_every_read_model_rebuilt_with_erased_people_equals_the_live_one(
    city: City, people: CitizenFactory
) -> None:
    a_city_with_the_erased(city, people)
    live = {p.name: rows(city, p.name) for p in PROJECTIONS}
    for projection in PROJECTIONS:
        city.read_models.rebuild(projection.name)
        assert rows(city, projection.name) == live[projection.name], projection.name


def test_read_models_that_read_no_personal_field_rebuild_with_no_key(
    city: City, people: CitizenFactory
) -> None:
    """Declared to open no retention class, they look up, unwrap and open no person's key
    (and rebuild equal to the live one, above)."""
    a_city_with_the_erased(city, people)
    vault = city.files.vault
    keyless = [p.name for p in PROJECTIONS if p.opens == frozenset()]
    assert len(keyless) >= 4
    for name in keyless:
        vault._keys.clear()
        vault._opening.clear()
        city.read_models.rebuild(name)
        assert [s for s, key in vault._keys.items() if key is not None] == [], name


def test_rebuild_all_succeeds_on_a_store_with_erased_people(
    city: City, people: CitizenFactory, env: dict[str, str]
) -> None:
    a_city_with_the_erased(city, people)
    rebuilt = CliRunner().invoke(cli, ["projections", "rebuild", "--all"], env=env)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert all(f"{p.name}: generation 2" in rebuilt.stdout for p in PROJECTIONS)


def test_newer_rules_for_every_read_model_rebuild_it_equal_with_erased_people(
    city: City, people: CitizenFactory
) -> None:
    a_city_with_the_erased(city, people)
    live = {p.name: rows(city, p.name) for p in PROJECTIONS}
    newer = tuple(
        type(cls.__name__, (cls,), {"name": cls.name, "version": cls.version + 1, **_rules(cls)})
        for cls in PROJECTIONS
    )
    models = ReadModels(city.files, city.db, projections=newer)
    assert sorted(models.upgrade()) == sorted(live)
    for name, before in live.items():
        assert rows(city, name) == before, name


def _rules(cls: type) -> dict[str, Any]:
    """What a subclass must carry to fold as its parent: its `apply` (its `name` too:
    eventsourcing names a projection class after itself unless told)."""
    return {"apply": cls.__dict__["apply"]} if "apply" in cls.__dict__ else {}
