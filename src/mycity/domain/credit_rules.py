"""The city's credit rules as data (`data/credit/rules.json`), checked whole at start-up.

The file gives the base score, the tiers' thresholds, the benefits each tier unlocks, how
long a penalty of each severity is published and when it may be repaired, how long a
licensing decision is published, and the rules: an event of this log (by the names in
`RULE_EVENTS`) and conditions on its fields, mapped to a change of its subject's score with
a reason code, and at most so many points per day, month or year. A bad file is refused
with `file: rule N: field: problem` (or `file: field: problem` outside the rules).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from mycity.domain.catalogue_reading import Reader
from mycity.domain.credit import MAX_DELTA, MAX_SCORE, Benefit, Severity, Tier
from mycity.domain.months import add_months

CODE = (re.compile(r"^[A-Z][A-Z0-9_]{1,39}$"), "an upper-case code of 2 to 40 characters")
MAX_MONTHS = 120  # no publication outlives ten years


class CreditRulesError(ValueError):
    """A credit rules file is not valid: `file: where: field: problem`."""


class Per(StrEnum):
    """A cap's period, in the city's days."""

    DAY = "DAY"
    MONTH = "MONTH"
    YEAR = "YEAR"

    def period(self, day: date) -> str:
        if self is Per.DAY:
            return day.isoformat()
        if self is Per.MONTH:
            return day.isoformat()[:7]
        return day.isoformat()[:4]


# The events a rule may name, and the fields its conditions may test. Whose score each
# moves is the credit process's to find (processes/credit.py).
RULE_EVENTS: Mapping[str, frozenset[str]] = {
    "Payment.Succeeded": frozenset({"kind"}),
    "Fare.Overdue": frozenset(),
    "Licence.Revoked": frozenset(),
    "Licence.Suspended": frozenset(),
    "Licence.Reinstated": frozenset(),
}


@dataclass(frozen=True)
class Cap:
    points: int
    per: Per


@dataclass(frozen=True)
class Rule:
    code: str
    event: str  # a name of RULE_EVENTS
    when: Mapping[str, str]  # field: the value it must have
    delta: int
    reason: str
    cap: Cap | None

    def matches(self, event: Any) -> bool:
        return all(str(getattr(event, f, "")) == v for f, v in self.when.items())


@dataclass(frozen=True)
class Publication:
    """How long a penalty decision of one severity is published, in months from its date."""

    points: int  # what it takes from the score
    repairable_after_months: int  # 0: at once
    ends_after_months: int

    def repairable_from(self, decided: date) -> date:
        return add_months(decided, self.repairable_after_months)

    def ends_on(self, decided: date) -> date:
        return add_months(decided, self.ends_after_months)


@dataclass(frozen=True)
class CreditRules:
    base: int
    thresholds: tuple[tuple[Tier, int], ...]  # from the highest tier down; the last is 0
    benefits: Mapping[Benefit, frozenset[Tier]]
    penalties: Mapping[Severity, Publication]
    licensing_months: int  # how long a licensing decision is published
    rules: tuple[Rule, ...]

    def tier(self, score: int) -> Tier:
        for tier, lowest in self.thresholds:
            if score >= lowest:
                return tier
        return self.thresholds[-1][0]

    def unlocked(self, score: int) -> frozenset[Benefit]:
        tier = self.tier(score)
        return frozenset(b for b, tiers in self.benefits.items() if tier in tiers)

    def for_event(self, name: str) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.event == name)

    @property
    def events(self) -> frozenset[str]:
        """The events some rule names: the only ones the credit process needs to read."""
        return frozenset(r.event for r in self.rules)


def parse_credit_rules(file: str, document: Any) -> CreditRules:
    top = Reader(file, CreditRulesError)
    doc = top.entry(
        "",
        document,
        ("base", "tiers", "benefits", "penalties", "licensing_months", "rules"),
        {},
    )
    base = top.number("base", doc["base"], 0, MAX_SCORE)
    thresholds = _tiers(top, doc["tiers"])
    benefits = _benefits(top, doc["benefits"])
    penalties = _penalties(top, doc["penalties"])
    licensing = top.number("licensing_months", doc["licensing_months"], 1, MAX_MONTHS)
    rules: list[Rule] = []
    for n, raw in enumerate(top.array("rules", doc["rules"]), start=1):
        rule = _rule(Reader(f"{file}: rule {n}", CreditRulesError), raw)
        if any(r.code == rule.code for r in rules):
            Reader(f"{file}: rule {n}", CreditRulesError).fail("code", f"{rule.code} is used twice")
        rules.append(rule)
    return CreditRules(base, thresholds, benefits, penalties, licensing, tuple(rules))


def _tiers(at: Reader, value: Any) -> tuple[tuple[Tier, int], ...]:
    """Each tier's lowest score, higher tiers higher; restricted starts at 0."""
    found = at.entry("tiers", value, tuple(t.value for t in Tier), {})
    thresholds = tuple(
        (tier, at.number(f"tiers.{tier.value}", found[tier.value], 0, MAX_SCORE)) for tier in Tier
    )
    if thresholds[-1][1] != 0:
        at.fail(f"tiers.{Tier.RESTRICTED.value}", "expected 0: every score has a tier")
    for (higher, high), (lower, low) in itertools.pairwise(thresholds):
        if high <= low:
            at.fail(f"tiers.{higher.value}", f"expected more than {lower.value}'s {low}")
    return thresholds


def _benefits(at: Reader, value: Any) -> Mapping[Benefit, frozenset[Tier]]:
    found = at.entry("benefits", value, tuple(b.value for b in Benefit), {})
    benefits = {}
    for benefit in Benefit:
        field = f"benefits.{benefit.value}"
        tiers = at.array(field, found[benefit.value])
        granted = [Tier(at.choice(f"{field}[{i}]", t, Tier)) for i, t in enumerate(tiers)]
        if Tier.RESTRICTED in granted:
            at.fail(field, "a restricted subject loses every benefit: not RESTRICTED")
        for tier in granted:  # what a tier unlocks, every higher tier unlocks too
            higher = list(Tier)[: list(Tier).index(tier)]
            if missing := [t.value for t in higher if t not in granted]:
                at.fail(field, f"{tier.value} has it, so {', '.join(missing)} must too")
        benefits[benefit] = frozenset(granted)
    return benefits


def _penalties(at: Reader, value: Any) -> Mapping[Severity, Publication]:
    found = at.entry("penalties", value, tuple(s.value for s in Severity), {})
    penalties = {}
    for severity in Severity:
        field = f"penalties.{severity.value}"
        entry = at.entry(
            field,
            found[severity.value],
            ("points", "repairable_after_months", "ends_after_months"),
            {},
        )
        points = at.number(f"{field}.points", entry["points"], 0, MAX_DELTA)
        repairable = at.number(
            f"{field}.repairable_after_months", entry["repairable_after_months"], 0, MAX_MONTHS
        )
        ends = at.number(f"{field}.ends_after_months", entry["ends_after_months"], 1, MAX_MONTHS)
        if ends < repairable:
            at.fail(f"{field}.ends_after_months", f"expected at least {repairable}")
        penalties[severity] = Publication(points, repairable, ends)
    return penalties


def _rule(at: Reader, value: Any) -> Rule:
    entry = at.entry("", value, ("code", "event", "delta", "reason"), {"when": {}, "cap": None})
    code = at.text("code", entry["code"], CODE)
    name = entry["event"]
    if not isinstance(name, str) or name not in RULE_EVENTS:
        at.fail("event", f"expected one of {', '.join(sorted(RULE_EVENTS))}")
    when = entry["when"]
    if not isinstance(when, dict):
        at.fail("when", "expected an object")
    for field, wanted in when.items():
        if field not in RULE_EVENTS[name]:
            fields = ", ".join(sorted(RULE_EVENTS[name])) or "none"
            at.fail(f"when.{field}", f"{name} has no such field (it has: {fields})")
        if not isinstance(wanted, str) or not wanted:
            at.fail(f"when.{field}", "expected a value to compare the field with")
    delta = at.number("delta", entry["delta"], -MAX_DELTA, MAX_DELTA)
    if delta == 0:
        at.fail("delta", "expected a change: not 0")
    reason = at.text("reason", entry["reason"], CODE)
    cap = None
    if entry["cap"] is not None:
        raw = at.entry("cap", entry["cap"], ("points", "per"), {})
        points = at.number("cap.points", raw["points"], 1, MAX_DELTA)
        cap = Cap(points, Per(at.choice("cap.per", raw["per"], Per)))
    return Rule(code, name, dict(when), delta, reason, cap)
