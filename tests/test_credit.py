"""City credit through the use cases, on both stores: the rules applied by the credit
process (a revoked licence, an overdue fare, each citing its evidence by position, a cap per
month), through a crash with nothing lost or doubled; authorities' feeds (sent twice,
counted once; another change under a used number refused); a citizen's penalty never
published; the publication sweep at its exact day; time travel; erasure."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from mycity.bootstrap import City
from mycity.data import load_credit_rules, load_fares
from mycity.domain.credit import Credit, Severity, credit_id
from mycity.domain.credit_rules import RULE_EVENTS, parse_credit_rules
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.fare import Fare, fare_day_id
from mycity.domain.licence import Licence
from mycity.domain.public_record import RecordKind
from mycity.identity.principal import Principal, Role
from mycity.processes.credit import Scoring
from mycity.processes.tracked import ProcessRunner
from mycity.usecases.credit import PenaltyDecision
from tests.domain_helpers import refused
from tests.helpers import CitizenFactory, Person, join_all, killed_after
from tests.services import PSB, close_account, establish, residence_permit, settle

MARKET = Principal("feed-amr", Role.AUTHORITY_FEED, "AMR", "市场监管局")
AUDITOR = Principal("auditor-1", Role.AUDITOR, None, "审计")
WHY = "reviewing a credit dispute"


def score(city: City, subject: UUID) -> int:
    return city.reads.credit.read(AUDITOR, subject, WHY).score


def overdue(city: City, rider: UUID, day: str) -> Fare:
    """A day's fares on credit, billed and never paid: overdue."""
    operator = load_fares().operators["CDBUS"]
    fare = Fare(  # type: ignore[call-arg]
        id=fare_day_id(rider, operator.code, day), rider=rider, operator=operator.code, day=day
    )
    fare.tap(operator, next(iter(operator.gates.values())), f"{day}T04:10:00+00:00", True)
    fare.bill(uuid4())
    fare.fall_overdue(fare.bills[-1], fare.deferred_fen, day)
    city.files.commit(fare)
    return fare


def positions_of(city: City, topic: type) -> list[int]:
    found = city.files.recorder.select_notifications(
        0, limit=10_000, topics=[f"{topic.__module__}:{topic.__qualname__}"]
    )
    return [n.id for n in found]


def history(city: City, subject: UUID) -> list[Credit.Changed]:
    events = city.files.repository.event_store.get(credit_id(subject))
    return [e for e in events if isinstance(e, Credit.Changed)]


def test_a_revoked_licence_costs_its_holder_by_rule_citing_the_revocation(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("吊销", verified=True)
    licence = residence_permit(city, person)
    city.licences.revoke(PSB, licence.id, "以欺骗手段取得")
    settle(city)
    [change] = history(city, person.id)
    assert (change.requested, change.score, change.reason, change.rule, change.source) == (
        -50,
        550,
        "LICENCE_REVOKED",
        "LICENCE_REVOKED",
        "rules",
    )
    assert change.position == positions_of(city, Licence.Revoked)[-1]


def test_overdue_fares_cost_by_rule_up_to_the_months_cap(
    city: City, people: CitizenFactory
) -> None:
    rider = people.register("逾期").id
    for day in ("2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"):
        overdue(city, rider, day)
    settle(city)
    assert [c.applied for c in history(city, rider)] == [-20, -20, -20]  # the cap: 60
    assert score(city, rider) == 540
    assert [c.position for c in history(city, rider)] == positions_of(city, Fare.Overdue)[:3]


def test_the_process_reads_only_the_events_its_rules_name() -> None:
    document = {
        "base": 600,
        "tiers": {"EXCELLENT": 700, "GOOD": 600, "NORMAL": 550, "RESTRICTED": 0},
        "benefits": {
            "SHORTFALL_ACCEPTANCE": [],
            "PAY_LATER_TRANSIT": [],
            "DEPOSIT_FREE_LIBRARY": [],
        },
        "penalties": {
            s.value: {"points": 1, "repairable_after_months": 0, "ends_after_months": 1}
            for s in Severity
        },
        "licensing_months": 1,
        "rules": [{"code": "LATE", "event": "Fare.Overdue", "delta": -1, "reason": "LATE"}],
    }
    scoring = Scoring(parse_credit_rules("rules.json", document), "Asia/Shanghai")
    assert scoring.follows() == ("mycity.domain.fare:Fare.Overdue",)
    assert len(Scoring(load_credit_rules(), "Asia/Shanghai").follows()) == len(RULE_EVENTS)


def test_a_crash_mid_way_loses_no_change_and_doubles_none(
    city: City, people: CitizenFactory, env: dict[str, str]
) -> None:
    riders = [people.register(f"断电{i}").id for i in range(5)]
    for rider in riders:
        overdue(city, rider, "2026-12-01")
    script = (
        "import time\n"
        "from mycity.bootstrap import build\n"
        "from mycity.data import load_credit_rules\n"
        "from mycity.processes.credit import Scoring\n"
        "from mycity.processes.tracked import ProcessRunner\n"
        "from mycity.settings import Settings\n"
        "city = build(Settings.from_env())\n"
        "record = city.files.record\n"
        "def slow(processing):\n"
        "    record(processing); print('page', flush=True); time.sleep(0.2)\n"
        "city.files.record = slow\n"
        "scoring = Scoring(load_credit_rules(), 'Asia/Shanghai')\n"
        "ProcessRunner(city.files, scoring, page_size=2).run_once()\n"
    )
    killed_after(script, env, pages=1)
    runner = ProcessRunner(city.files, Scoring(load_credit_rules(), "Asia/Shanghai"), page_size=2)
    assert 0 < runner.position() < city.files.head()
    runner.run_once()
    assert [[c.applied for c in history(city, r)] for r in riders] == [[-20]] * 5


# -- authorities' feeds --------------------------------------------------------------------


def test_a_feeds_change_sent_twice_counts_once_and_a_number_reused_is_refused(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("奖励", verified=True)
    reward = (person.id_number, None, 30, "VOLUNTEER", "常文明〔2026〕3号", None)
    city.credits.record_change(MARKET, *reward)
    city.credits.record_change(MARKET, *reward)
    assert score(city, person.id) == 630
    with refused(ErrorCode.DECISION_NUMBER_REUSED, "decision"):
        city.credits.record_change(MARKET, person.id_number, None, 20, "VOLUNTEER", reward[4], None)
    health = Principal("feed-health", Role.AUTHORITY_FEED, "HEALTH", "卫健委")
    city.credits.record_change(health, *reward)  # another authority's own number
    assert score(city, person.id) == 660


@pytest.mark.parametrize(
    ("delta", "severity", "code", "field"),
    [
        (0, None, ErrorCode.INVALID_DELTA, "delta"),
        (1001, None, ErrorCode.INVALID_DELTA, "delta"),
        (-1001, Severity.SERIOUS, ErrorCode.INVALID_DELTA, "delta"),
        (-10, None, ErrorCode.INVALID_ARGUMENT, "severity"),
        (10, Severity.MINOR, ErrorCode.INVALID_ARGUMENT, "severity"),
    ],
)
def test_a_feeds_change_is_1_to_1000_points_and_only_a_penalty_has_a_severity(
    city: City,
    people: CitizenFactory,
    delta: int,
    severity: Severity | None,
    code: ErrorCode,
    field: str,
) -> None:
    person = people.register("边界")
    with refused(code, field):
        city.credits.record_change(MARKET, person.id_number, None, delta, "R_X", "号1", severity)


@pytest.mark.parametrize("delta", [1000, -1000])
def test_a_change_of_the_whole_range_is_taken_and_clamped(
    city: City, people: CitizenFactory, delta: int
) -> None:
    person = people.register("全程")
    severity = Severity.SERIOUS if delta < 0 else None
    city.credits.record_change(MARKET, person.id_number, None, delta, "R_X", "号2", severity)
    [change] = history(city, person.id)
    assert (change.requested, change.applied, change.score) == (
        delta,
        400 if delta > 0 else -600,
        1000 if delta > 0 else 0,
    )


def test_a_citizens_penalty_is_never_published(city: City, people: CitizenFactory) -> None:
    person = people.register("处罚")
    city.credits.record_change(
        MARKET, person.id_number, None, -30, "FOOD_SAFETY", "罚〔2026〕9号", Severity.GENERAL
    )
    settle(city)
    assert score(city, person.id) == 570
    assert city.reads.credit.published(None, RecordKind.PENALTY, 10, None) == []


def decision(code: str, decided: date, severity: Severity = Severity.GENERAL) -> PenaltyDecision:
    return PenaltyDecision(
        credit_code=code,
        number=f"罚〔{decided.year}〕{decided.toordinal()}号",
        item="食品经营",
        reason="未公示许可",
        legal_basis="《食品安全法》",
        result="警告",
        decided=decided,
        severity=severity,
    )


def test_a_penalty_decision_is_dated_today_or_before(city: City, people: CitizenFactory) -> None:
    _, enterprise, _ = establish(city, people.register("创业", verified=True))
    today = city.clock.today()
    with refused(ErrorCode.INVALID_DATE, "decided"):
        city.credits.record_penalty(
            MARKET, decision(enterprise.credit_code, today + timedelta(days=1))
        )
    city.credits.record_penalty(MARKET, decision(enterprise.credit_code, today))


def test_publication_ends_on_its_last_day_by_the_sweep_and_not_a_day_before(
    city: City, people: CitizenFactory
) -> None:
    _, enterprise, _ = establish(city, people.register("公示", verified=True))
    city.clock.stopped_at = datetime(2026, 12, 7, 4, tzinfo=UTC)
    city.credits.record_penalty(
        MARKET, decision(enterprise.credit_code, date(2026, 12, 7), Severity.MINOR)
    )
    settle(city)

    def listed() -> list[str]:
        found = city.reads.credit.published(enterprise.credit_code, None, 10, None)
        return sorted(r.kind.value for r in found)

    assert listed() == ["LICENSING", "PENALTY"]
    city.clock.stopped_at = datetime(2027, 3, 6, 15, 59, 59, tzinfo=UTC)  # 23:59:59, 6 March
    assert city.publication.sweep() == 0
    city.clock.stopped_at = datetime(2027, 3, 6, 16, tzinfo=UTC)  # 00:00, 7 March
    assert city.publication.sweep() == 1
    settle(city)
    assert listed() == ["LICENSING"]
    assert city.publication.sweep() == 0


def test_time_travel_reads_the_score_a_benefit_was_decided_from(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("回溯")
    city.credits.record_change(MARKET, person.id_number, None, 120, "R_UP", "号3", None)
    between = datetime.now(UTC)
    city.credits.record_change(
        MARKET, person.id_number, None, -200, "R_DOWN", "号4", Severity.SERIOUS
    )
    then_ = city.reads.credit.read(AUDITOR, person.id, WHY, at=between)
    now = city.reads.credit.read(AUDITOR, person.id, WHY)
    assert (then_.score, then_.tier.value, now.score, now.tier.value) == (
        720,
        "EXCELLENT",
        520,
        "RESTRICTED",
    )
    before = city.reads.credit.read(AUDITOR, person.id, WHY, at=between - timedelta(hours=1))
    assert before.score == 600  # before any change: the base


def test_a_citizens_credit_is_gone_with_their_erasure(city: City, people: CitizenFactory) -> None:
    person: Person = people.register("注销信用", verified=True)
    city.credits.record_change(MARKET, person.id_number, None, 50, "R_UP", "号5", None)
    close_account(city, people, person)
    settle(city)
    assert all(c.score is None and c.reason is None for c in history(city, person.id))
    assert (
        city.reads.credit.history(city.reads.credit.read(AUDITOR, person.id, WHY), 10, None) == []
    )


def test_feeds_writing_at_once_to_one_score_lose_nothing_and_double_nothing(
    city: City, people: CitizenFactory
) -> None:
    """Each write lands, or is told CONCURRENT_CHANGE and lands when the feed sends it again
    (its decision's number makes a second sending count once)."""
    person = people.register("并发")

    def send(number: str) -> None:
        change = (MARKET, person.id_number, None, 7, "R_UP", number, None)
        for _ in range(10):
            try:
                city.credits.record_change(*change)
                return
            except UserError as e:
                if e.code is not ErrorCode.CONCURRENT_CHANGE:
                    raise

    threads = [threading.Thread(target=send, args=(f"并发{i}号",)) for i in range(8)]
    for thread in threads:
        thread.start()
    assert join_all(threads)
    assert score(city, person.id) == 600 + 8 * 7
    assert sorted(c.score for c in history(city, person.id)) == [607 + 7 * i for i in range(8)]


def test_a_repair_gives_back_what_the_penalty_took_no_more(
    city: City, people: CitizenFactory
) -> None:
    _, enterprise, _ = establish(city, people.register("清零", verified=True))
    code = enterprise.credit_code
    city.credits.record_change(MARKET, None, code, -590, "R_DOWN", "降到10", Severity.SERIOUS)
    city.credits.record_penalty(MARKET, decision(code, city.clock.today(), Severity.MINOR))
    assert score(city, enterprise.id) == 5  # a minor penalty: 5 points
    city.credits.record_change(MARKET, None, code, -10, "R_DOWN", "再降", Severity.MINOR)
    assert score(city, enterprise.id) == 0
    second, _ = city.credits.record_penalty(
        MARKET, decision(code, city.clock.today() - timedelta(days=1), Severity.MINOR)
    )
    assert score(city, enterprise.id) == 0  # it took nothing: the score was at 0
    founder = Principal.of_citizen(enterprise.legal_representative_id, "清零")
    repair, _ = city.credits.apply_for_repair(
        founder, second, "已整改完毕，承诺依法诚信经营。" * 2, []
    )
    amr = Principal("officer-amr", Role.OFFICER, "AMR", "officer")
    city.credits.decide_repair(amr, second, repair, True, "整改到位")
    assert score(city, enterprise.id) == 0
