"""Credit's documented limits, each at its exact bound on both sides: a decision's number (64
characters), a decision's texts (500), a repair's commitment (20 to 2000) and materials (10),
the demo's clock switch (3650 days); and whatever a feed sends is taken or refused with a
typed error, never anything else."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mycity.bootstrap import City
from mycity.domain.credit import Severity
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.public_record import PublicRecord
from mycity.identity.principal import Principal, Role
from mycity.settings import Settings, SettingsError
from mycity.usecases.credit import MAX_COMMITMENT, MAX_MATERIALS, MAX_NUMBER, MAX_TEXT
from mycity.usecases.credit import PenaltyDecision as Decision
from tests.domain_helpers import refused
from tests.helpers import CitizenFactory, Person
from tests.services import establish, upload

MARKET = Principal("feed-amr", Role.AUTHORITY_FEED, "AMR", "市场监管局")


def decision(code: str, **changes: object) -> Decision:
    fields: dict[str, object] = {
        "credit_code": code,
        "number": "罚1",
        "item": "食品经营",
        "reason": "未公示许可",
        "legal_basis": "《食品安全法》",
        "result": "警告",
        "decided": date(2026, 12, 1),
        "severity": Severity.MINOR,
    }
    return Decision(**(fields | changes))  # type: ignore[arg-type]


@pytest.fixture
def firm(city: City, people: CitizenFactory) -> tuple[Person, str]:
    founder = people.register("边界法人", verified=True)
    _, enterprise, _ = establish(city, founder)
    return founder, enterprise.credit_code


@pytest.mark.parametrize(
    ("field", "limit", "error_field"),
    [
        ("number", MAX_NUMBER, "number"),
        ("item", MAX_TEXT, "item"),
        ("reason", MAX_TEXT, "reason"),
        ("legal_basis", MAX_TEXT, "legalBasis"),
        ("result", MAX_TEXT, "result"),
    ],
)
def test_a_decisions_texts_are_taken_up_to_their_length_and_refused_beyond(
    city: City, firm: tuple[Person, str], field: str, limit: int, error_field: str
) -> None:
    _, code = firm
    number = {"number": f"长{field}"} if field != "number" else {}
    city.credits.record_penalty(MARKET, decision(code, **number, **{field: "字" * limit}))
    beyond = {"number": f"超{field}"} if field != "number" else {}
    with refused(ErrorCode.INVALID_ARGUMENT, error_field):
        city.credits.record_penalty(MARKET, decision(code, **beyond, **{field: "字" * (limit + 1)}))


@pytest.mark.parametrize(
    ("length", "materials", "refusal"),
    [
        (19, 0, ErrorCode.INVALID_ARGUMENT),
        (20, 0, None),
        (MAX_COMMITMENT, MAX_MATERIALS, None),
        (MAX_COMMITMENT + 1, 0, ErrorCode.INVALID_ARGUMENT),
        (20, MAX_MATERIALS + 1, ErrorCode.TOO_MANY_ITEMS),
    ],
)
def test_a_repairs_commitment_and_materials_at_their_bounds(
    city: City,
    firm: tuple[Person, str],
    length: int,
    materials: int,
    refusal: ErrorCode | None,
) -> None:
    founder, code = firm
    record, _ = city.credits.record_penalty(MARKET, decision(code))
    uploads = [upload(city, founder, b"%PDF-1.7 evidence " + bytes([i])) for i in range(materials)]
    apply = lambda: city.credits.apply_for_repair(  # noqa: E731
        founder.principal, record, "诺" * length, uploads
    )
    if refusal is None:
        apply()
        assert city.files.get(PublicRecord, record).pending_repair is not None
    else:
        with refused(refusal):
            apply()


def test_a_material_not_uploaded_by_the_applicant_is_refused_naming_it(
    city: City, firm: tuple[Person, str]
) -> None:
    founder, code = firm
    record, _ = city.credits.record_penalty(MARKET, decision(code))
    with refused(ErrorCode.UPLOAD_NOT_FOUND, "materials[0]"):
        city.credits.apply_for_repair(
            founder.principal, record, "诺" * 20, ["document:" + "0" * 64]
        )


@pytest.mark.parametrize(("days", "ok"), [(0, True), (3650, True), (3651, False)])
def test_the_clock_switch_is_0_to_3650_days(days: int, ok: bool) -> None:
    env = {"MYCITY_CLOCK_AHEAD_DAYS": str(days)}
    if ok:
        assert Settings.from_env(env).services.clock_ahead_days == days
    else:
        with pytest.raises(SettingsError, match="at most 3650"):
            Settings.from_env(env)


def test_the_clock_switch_is_refused_with_postgresql() -> None:
    env = {"MYCITY_CLOCK_AHEAD_DAYS": "92", "MYCITY_DATABASE_URL": "postgresql://h/db"}
    with pytest.raises(SettingsError, match="embedded store"):
        Settings.from_env(env)


TEXT = st.text(max_size=80)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    id_number=st.none() | TEXT,
    credit_code=st.none() | TEXT,
    delta=st.integers(min_value=-5000, max_value=5000),
    reason=TEXT,
    number=TEXT,
    severity=st.none() | st.sampled_from(Severity),
)
def test_whatever_a_feed_sends_is_taken_or_refused_with_a_typed_error(
    city: City,
    id_number: str | None,
    credit_code: str | None,
    delta: int,
    reason: str,
    number: str,
    severity: Severity | None,
) -> None:
    refused_at = None
    try:
        city.credits.record_change(MARKET, id_number, credit_code, delta, reason, number, severity)
    except UserError as e:
        refused_at = e.field
    assert refused_at in {None, "subject", "delta", "severity", "reason", "decision"}
