"""The city's reference data shipped with the package: the service catalogue, the calendar,
the retention periods, the transit fares and the credit rules.

Both are read once and checked whole; a file that does not parse stops the city at start,
naming the file, rather than surfacing as a wrong answer to an applicant later.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from mycity.domain.calendar import CalendarError, WorkCalendar, parse_calendar
from mycity.domain.catalogue import Catalogue, CatalogueError, parse_catalogue
from mycity.domain.credit_rules import CreditRules, CreditRulesError, parse_credit_rules
from mycity.domain.fares import FareError, FareRules, parse_fares
from mycity.domain.retention import RetentionError, RetentionRules, parse_retention


def _documents(folder: str, error: type[ValueError]) -> dict[str, Any]:
    """Every JSON file of a data folder, parsed, by file name."""
    documents: dict[str, Any] = {}
    for entry in (resources.files(__name__) / folder).iterdir():
        if entry.name.endswith(".json"):
            try:
                documents[entry.name] = json.loads(entry.read_text(encoding="utf-8"))
            except json.JSONDecodeError as e:
                raise error(f"{entry.name}: not JSON: {e}") from None
    return documents


@cache
def load_catalogue() -> Catalogue:
    """The shipped catalogue (data/catalogue/<department>.json)."""
    return parse_catalogue(_documents("catalogue", CatalogueError))


@cache
def load_calendar() -> WorkCalendar:
    """The shipped calendar (data/calendar/<year>.json); see mycity.domain.calendar."""
    return parse_calendar(_documents("calendar", CalendarError))


@cache
def load_retention() -> RetentionRules:
    """The shipped retention periods (data/retention/retention.json), checked against the
    shipped catalogue."""
    rules = parse_retention(_documents("retention", RetentionError)["retention.json"])
    catalogue = load_catalogue()
    return rules.for_catalogue(
        {
            code: item.licence.type_code if item.licence else None
            for code, item in catalogue.items.items()
        }
    )


@cache
def load_fares() -> FareRules:
    """The shipped transit fares (data/fares/<operator>.json); see mycity.domain.fares."""
    return parse_fares(_documents("fares", FareError))


def department_codes() -> tuple[str, ...]:
    """Every department's code, sorted: each that issues licences signs with a ring of its own."""
    return tuple(sorted(load_catalogue().departments))


CREDIT_RULES = "rules.json"


@cache
def load_credit_rules() -> CreditRules:
    """The shipped credit rules (data/credit/rules.json); see mycity.domain.credit_rules."""
    document = _documents("credit", CreditRulesError)[CREDIT_RULES]
    return parse_credit_rules(CREDIT_RULES, document)
