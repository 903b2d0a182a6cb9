"""How long a closed account's statutory records are kept, and so when its key goes.

Closing an account (PIPL art. 47) erases its service activity at once; what a law requires
kept is kept for its period and then erased. The periods are data
(`data/retention/retention.json`), checked whole at start-up against the catalogue: one
rule for each kind of record, counted from the record's own end, and rules for catalogue
items that differ (a marriage registration, and the marriage certificate it issues, are
kept for good). A record is kept through the anniversary of its last day and goes the day
after, so it never goes early whatever the hour it ended. A person's statutory records
share one key, so it goes on the last of their records' days; a record not yet ended (an
open application, a licence with no end) keeps it until it has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

DAY = timedelta(days=1)


class RetentionError(ValueError):
    """The retention file is not valid: `file: where: problem`."""


class RecordKind(StrEnum):
    REGISTRATION = "REGISTRATION"  # the account itself: name and ID number
    APPLICATION = "APPLICATION"
    LICENCE = "LICENCE"


class Counted(StrEnum):
    """What a period is counted from: each record's own end."""

    CLOSED = "CLOSED"  # the account closed
    ENDED = "ENDED"  # the application ended: rejected, withdrawn, lapsed or completed
    VALIDITY_ENDED = "VALIDITY_ENDED"  # the licence's validity ended


COUNTED = {
    RecordKind.REGISTRATION: Counted.CLOSED,
    RecordKind.APPLICATION: Counted.ENDED,
    RecordKind.LICENCE: Counted.VALIDITY_ENDED,
}
MAX_YEARS = 100


@dataclass(frozen=True)
class Rule:
    name: str  # "application", or the item's code for an item's own rule
    years: int | None  # None: kept for good
    counted: Counted
    basis: str  # the law or regulation, as a person reads it


@dataclass(frozen=True)
class Record:
    """A statutory record of a person's, as the retention schedule knows it."""

    kind: RecordKind
    reference: str  # the citizen, application or licence id
    item: str  # an application's catalogue item, a licence's type ("" for a registration)
    ends: date | None  # its last day (UTC); None: not ended yet, or never ends


@dataclass(frozen=True)
class Kept:
    """A record kept after its person's account closed: until when, under which rule."""

    record: Record
    rule: Rule

    @property
    def erased_on(self) -> date | None:
        """The day its key may go: the day after the anniversary of its last day; None
        while it has not ended, or if kept for good."""
        if self.rule.years is None or self.record.ends is None:
            return None
        return add_years(self.record.ends, self.rule.years) + DAY

    def receipt(self) -> dict[str, Any]:
        """What the person's receipt says of it (not personal: ids, codes, dates, law)."""
        erased_on = self.erased_on
        return {
            "kind": self.record.kind.value,
            "reference": self.record.reference,
            "item": self.record.item,
            "rule": self.rule.name,
            "years": self.rule.years,
            "counted_from": self.rule.counted.value,
            "ends": self.record.ends.isoformat() if self.record.ends else "",
            "erased_on": erased_on.isoformat() if erased_on else "",
            "basis": self.rule.basis,
        }


@dataclass(frozen=True)
class RetentionRules:
    kinds: Mapping[RecordKind, Rule]
    items: Mapping[str, Rule]  # per catalogue item: its applications
    licences: Mapping[str, Rule] = field(default_factory=dict)  # per type: the items' licences

    def kept(self, record: Record) -> Kept:
        rule = self.kinds[record.kind]
        own = {RecordKind.APPLICATION: self.items, RecordKind.LICENCE: self.licences}
        overridden = own.get(record.kind, {}).get(record.item)
        if overridden is not None:
            rule = Rule(overridden.name, overridden.years, COUNTED[record.kind], overridden.basis)
        return Kept(record, rule)

    def for_catalogue(self, licence_of: Mapping[str, str | None]) -> RetentionRules:
        """The rules with each overridden item's licence type under its rule too, checked
        against the catalogue (`licence_of`: item code -> the licence type it issues): an
        item it lacks, or two items issuing one type under different rules, is an error."""
        licences: dict[str, Rule] = {}
        for code, rule in self.items.items():
            if code not in licence_of:
                raise RetentionError(f"retention.json: items.{code}: no such catalogue item")
            type_code = licence_of[code]
            if type_code is None:
                continue
            issuing = [c for c, t in licence_of.items() if t == type_code]
            if any(self.items.get(c) != rule for c in issuing):
                raise RetentionError(
                    f"retention.json: items.{code}: {type_code} is also issued by "
                    f"{', '.join(c for c in issuing if c != code)} under another rule"
                )
            licences[type_code] = rule
        return RetentionRules(self.kinds, self.items, licences)

    def statutory_key_erased_on(self, records: Iterable[Record]) -> date | None:
        """The day a person's statutory key goes: the last of their records' days; None
        while any of them has no day yet."""
        days = [self.kept(record).erased_on for record in records]
        if not days or any(day is None for day in days):
            return None
        return max(day for day in days if day is not None)


def add_years(day: date, years: int) -> date:
    """The same day so many years on; 29 February becomes 1 March in a common year (a
    period is never cut short)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, month=3, day=1)


def parse_retention(document: Any, file: str = "retention.json") -> RetentionRules:
    """The rules, checked whole: any problem is `file: where: problem`."""

    def fail(where: str, problem: str) -> RetentionError:
        return RetentionError(f"{file}: {where}: {problem}")

    def rule(where: str, name: str, value: Any, counted: Counted | None) -> Rule:
        if not isinstance(value, dict):
            raise fail(where, "must be an object")
        unknown = set(value) - {"years", "after", "basis"}
        if unknown:
            raise fail(where, f"unknown field {sorted(unknown)[0]}")
        years = value.get("years", "absent")
        if years is not None and (
            isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= MAX_YEARS
        ):
            raise fail(f"{where}.years", f"must be a whole number 0 to {MAX_YEARS}, or null")
        basis = value.get("basis")
        if not isinstance(basis, str) or not basis.strip():
            raise fail(f"{where}.basis", "must name the law or regulation")
        if counted is not None and value.get("after") != counted.value:
            raise fail(f"{where}.after", f"must be {counted.value}")
        return Rule(name, years, counted or Counted.ENDED, basis)

    if not isinstance(document, dict):
        raise fail("top", "must be an object")
    names = {kind.value.lower(): kind for kind in RecordKind}
    unknown = set(document) - {*names, "items"}
    if unknown:
        raise fail("top", f"unknown field {sorted(unknown)[0]}")
    kinds = {}
    for name, kind in names.items():
        if name not in document:
            raise fail(name, "missing")
        kinds[kind] = rule(name, name, document[name], COUNTED[kind])
    items = document.get("items", {})
    if not isinstance(items, dict):
        raise fail("items", "must be an object")
    return RetentionRules(
        kinds,
        {code: rule(f"items.{code}", code, value, None) for code, value in items.items()},
    )
