"""City credit's rules, given events, when a command, then events: a score never leaves
0..1000 and its clamping is recorded; a rule's cap per period; tiers at their exact
thresholds; a published penalty repaired only from its day, once, and its publication
ended by its period or its repair; and the rules file refused, one error of each kind."""

from __future__ import annotations

import copy
import json
from datetime import date
from importlib import resources
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given as given_input
from hypothesis import strategies as st

from mycity.data import load_credit_rules
from mycity.domain.credit import MAX_SCORE, Benefit, Credit, Severity, SubjectKind, Tier
from mycity.domain.credit_rules import CreditRulesError, Per, parse_credit_rules
from mycity.domain.errors import ErrorCode
from mycity.domain.months import add_months
from mycity.domain.public_record import Ending, PublicRecord
from tests.domain_helpers import fact, given, refused, then

SUBJECT = uuid4()
RULES = load_credit_rules()


def credit_at(score: int) -> Credit:
    return given(
        Credit,
        fact(Credit.Opened, subject=SUBJECT, kind=SubjectKind.CITIZEN.value, base=score),
    )


def test_a_change_moves_the_score_and_says_why() -> None:
    credit = credit_at(600)
    credit.change(
        -30, "PENALTY_DECISION", "AMR", severity="GENERAL", decision="武市监罚〔2026〕1号"
    )
    assert then(credit) == [
        (
            "Changed",
            {
                "subject": SUBJECT,
                "requested": -30,
                "applied": -30,
                "score": 570,
                "reason": "PENALTY_DECISION",
                "rule": "",
                "severity": "GENERAL",
                "period": "",
                "source": "AMR",
                "position": None,
                "decision": "武市监罚〔2026〕1号",
            },
        )
    ]


@pytest.mark.parametrize(
    ("score", "requested", "applied", "after"),
    [
        (10, -10, -10, 0),  # exactly to the floor
        (10, -11, -10, 0),  # one past it: clamped, and the clamping recorded
        (0, -1, 0, 0),  # at the floor: recorded, to no move
        (990, 10, 10, MAX_SCORE),
        (990, 11, 10, MAX_SCORE),
        (MAX_SCORE, 1, 0, MAX_SCORE),
    ],
)
def test_a_score_is_clamped_to_0_and_1000_and_the_clamping_is_visible(
    score: int, requested: int, applied: int, after: int
) -> None:
    credit = credit_at(score)
    credit.change(requested, "R", "rules")
    assert then(credit, "requested", "applied", "score") == [
        ("Changed", {"requested": requested, "applied": applied, "score": after})
    ]


def test_a_rules_cap_stops_at_its_points_for_the_period_and_opens_again_with_the_next() -> None:
    credit = credit_at(600)
    kept = [credit.change(4, "FEE_PAID", "rules", rule="FEE", cap=10, period="2026-12")]
    kept += [credit.change(4, "FEE_PAID", "rules", rule="FEE", cap=10, period="2026-12")]
    kept += [credit.change(4, "FEE_PAID", "rules", rule="FEE", cap=10, period="2026-12")]
    kept += [credit.change(4, "FEE_PAID", "rules", rule="FEE", cap=10, period="2026-12")]
    assert kept == [True, True, True, False]  # 4 + 4 + 2 = the cap; then nothing to give
    assert [a["applied"] for _, a in then(credit)] == [4, 4, 2]
    assert credit.change(4, "FEE_PAID", "rules", rule="FEE", cap=10, period="2027-01")
    assert credit.score == 614
    assert credit.used == {"FEE@2027-01": 4}  # the old period's count is dropped


def test_a_penalty_rules_cap_counts_points_taken() -> None:
    credit = credit_at(600)
    for _ in range(3):
        assert credit.change(-20, "FARE", "rules", rule="FARE", cap=50, period="2026-12")
    assert not credit.change(-20, "FARE", "rules", rule="FARE", cap=50, period="2026-12")
    assert credit.score == 550


@given_input(st.integers(min_value=0, max_value=MAX_SCORE))
def test_every_score_has_the_tier_of_its_thresholds(score: int) -> None:
    expected = (
        Tier.EXCELLENT
        if score >= 700
        else Tier.GOOD
        if score >= 600
        else Tier.NORMAL
        if score >= 550
        else Tier.RESTRICTED
    )
    assert RULES.tier(score) is expected


@pytest.mark.parametrize(
    ("score", "tier", "benefits"),
    [
        (549, Tier.RESTRICTED, set()),
        (550, Tier.NORMAL, set()),
        (599, Tier.NORMAL, set()),
        (600, Tier.GOOD, {Benefit.SHORTFALL_ACCEPTANCE, Benefit.PAY_LATER_TRANSIT}),
        (699, Tier.GOOD, {Benefit.SHORTFALL_ACCEPTANCE, Benefit.PAY_LATER_TRANSIT}),
        (700, Tier.EXCELLENT, set(Benefit)),
    ],
)
def test_tiers_and_benefits_at_each_threshold_on_both_sides(
    score: int, tier: Tier, benefits: set[Benefit]
) -> None:
    assert RULES.tier(score) is tier
    assert RULES.unlocked(score) == benefits


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 12, 7), 3, date(2027, 3, 7)),
        (date(2026, 12, 7), 12, date(2027, 12, 7)),
        (date(2026, 12, 7), 0, date(2026, 12, 7)),
    ],
)
def test_months_end_on_the_same_day_or_the_months_last(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("per", "expected"), [(Per.DAY, "2026-12-07"), (Per.MONTH, "2026-12"), (Per.YEAR, "2026")]
)
def test_a_caps_period_is_the_citys_day_month_or_year(per: Per, expected: str) -> None:
    assert per.period(date(2026, 12, 7)) == expected


# -- public records and repair ------------------------------------------------------------


def penalty(decided: str = "2026-12-07", severity: Severity = Severity.GENERAL) -> PublicRecord:
    publication = RULES.penalties[severity]
    day = date.fromisoformat(decided)
    return given(
        PublicRecord,
        fact(
            PublicRecord.Published,
            kind="PENALTY",
            number="武市监罚〔2026〕1号",
            enterprise=uuid4(),
            credit_code="91430702MA4L0C8P2X",
            name="常德市武陵区湘味餐饮有限公司",
            item="食品安全",
            reason="未按规定公示许可证",
            legal_basis="《食品安全法》第一百二十六条",
            result="警告，罚款5000元",
            authority="AMR",
            decided=decided,
            severity=severity.value,
            points=publication.points,
            repairable_from=publication.repairable_from(day).isoformat(),
            published_until=publication.ends_on(day).isoformat(),
            evidence=None,
        ),
    )


def apply(record: PublicRecord, today: str) -> Any:
    repair = uuid4()
    record.apply_for_repair(repair, uuid4(), "已整改完毕，承诺今后依法经营。" * 2, [], today)
    return repair


def test_a_general_penalty_is_repairable_from_three_months_on_not_a_day_before() -> None:
    record = penalty("2026-12-07")
    with refused(ErrorCode.REPAIR_TOO_EARLY, "penaltyId"):
        apply(record, "2027-03-06")
    apply(record, "2027-03-07")
    assert [name for name, _ in then(record)] == ["RepairApplied"]


def test_a_minor_penalty_is_repairable_at_once() -> None:
    record = penalty("2026-12-07", Severity.MINOR)
    apply(record, "2026-12-07")


def test_an_approved_repair_ends_the_publication_and_a_second_application_is_refused() -> None:
    record = penalty()
    repair = apply(record, "2027-06-01")
    with refused(ErrorCode.REPAIR_PENDING):
        apply(record, "2027-06-01")
    then(record)  # the application
    record.decide_repair(repair, "officer-amr-01", True, "已整改", "2027-06-02")
    assert [(n, a.get("ending")) for n, a in then(record)] == [
        ("RepairDecided", None),
        ("PublicationEnded", Ending.REPAIRED.value),
    ]
    with refused(ErrorCode.NOT_PUBLISHED):
        apply(record, "2027-06-03")


def test_a_refused_repair_leaves_it_published_and_another_may_be_applied_for() -> None:
    record = penalty()
    repair = apply(record, "2027-06-01")
    then(record)  # the application
    record.decide_repair(repair, "officer-amr-01", False, "整改材料不全", "2027-06-02")
    assert [n for n, _ in then(record)] == ["RepairDecided"]
    with refused(ErrorCode.NO_REPAIR_PENDING):
        record.decide_repair(repair, "officer-amr-01", True, "again", "2027-06-02")
    apply(record, "2027-06-03")


def test_a_general_penaltys_publication_ends_on_the_day_a_year_on_and_not_before() -> None:
    record = penalty("2026-12-07")
    assert not record.expire_if_due("2027-12-06")
    assert record.expire_if_due("2027-12-07")
    assert then(record, "ending", "on") == [
        ("PublicationEnded", {"ending": "EXPIRED", "on": "2027-12-07"})
    ]
    assert not record.expire_if_due("2027-12-08")


def test_a_serious_penalty_waits_a_year_to_be_repaired_and_is_published_three() -> None:
    record = penalty("2026-12-07", Severity.SERIOUS)
    assert (record.repairable_from, record.published_until) == ("2027-12-07", "2029-12-07")


# -- the rules file -----------------------------------------------------------------------


def shipped() -> dict[str, Any]:
    text = (resources.files("mycity.data") / "credit" / "rules.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def broken(change: Any) -> str:
    document = copy.deepcopy(shipped())
    change(document)
    with pytest.raises(CreditRulesError) as caught:
        parse_credit_rules("rules.json", document)
    return str(caught.value)


def test_the_shipped_rules_parse() -> None:
    assert parse_credit_rules("rules.json", shipped()) == RULES


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("base"), "rules.json: base: missing"),
        (lambda d: d.update(base=1001), "rules.json: base: expected 0 to 1000, not 1001"),
        (lambda d: d.update(extra=1), "rules.json: extra: unknown key"),
        (
            lambda d: d["tiers"].update(NORMAL=0),
            "rules.json: tiers.NORMAL: expected more than RESTRICTED's 0",
        ),
        (
            lambda d: d["tiers"].update(GOOD=550),
            "rules.json: tiers.GOOD: expected more than NORMAL's 550",
        ),
        (
            lambda d: d["tiers"].update(RESTRICTED=1),
            "rules.json: tiers.RESTRICTED: expected 0: every score has a tier",
        ),
        (
            lambda d: d["benefits"].update(PAY_LATER_TRANSIT=["GOLD"]),
            "rules.json: benefits.PAY_LATER_TRANSIT[0]: expected EXCELLENT, GOOD, NORMAL or "
            "RESTRICTED",
        ),
        (
            lambda d: d["benefits"].update(PAY_LATER_TRANSIT=["GOOD"]),
            "rules.json: benefits.PAY_LATER_TRANSIT: GOOD has it, so EXCELLENT must too",
        ),
        (
            lambda d: d["benefits"].update(PAY_LATER_TRANSIT=list(Tier)),
            "rules.json: benefits.PAY_LATER_TRANSIT: a restricted subject loses every benefit",
        ),
        (
            lambda d: d["rules"][1].update(event=["Fare.Overdue"]),
            "rules.json: rule 2: event: expected one of",
        ),
        (
            lambda d: d["penalties"]["SERIOUS"].update(ends_after_months=6),
            "rules.json: penalties.SERIOUS.ends_after_months: expected at least 12",
        ),
        (
            lambda d: d["rules"][1].update(event="Fare.Forgotten"),
            "rules.json: rule 2: event: expected one of",
        ),
        (
            lambda d: d["rules"][0]["when"].update(payer="x"),
            "rules.json: rule 1: when.payer: Payment.Succeeded has no such field (it has: kind)",
        ),
        (lambda d: d["rules"][0].update(delta=0), "rules.json: rule 1: delta: expected a change"),
        (
            lambda d: d["rules"][0].update(delta=1001),
            "rules.json: rule 1: delta: expected -1000 to 1000, not 1001",
        ),
        (
            lambda d: d["rules"][2].update(reason="late fare"),
            "rules.json: rule 3: reason: expected an upper-case code",
        ),
        (
            lambda d: d["rules"][0].update(cap={"points": 10, "per": "WEEK"}),
            "rules.json: rule 1: cap.per: expected DAY, MONTH or YEAR",
        ),
        (
            lambda d: d["rules"][3].update(code="FEE_PAID"),
            "rules.json: rule 4: code: FEE_PAID is used twice",
        ),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_rule_and_the_field(
    change: Any, message: str
) -> None:
    assert broken(change).startswith(message)
