"""The docs say what the code does: every recorded event is in the event catalogue."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

import mycity.domain
from mycity.domain.personal import personal_of

CATALOGUE = (Path(__file__).parent.parent / "docs" / "events.md").read_text()


def recorded_event_classes() -> set[type]:
    """The event classes our aggregates record (not the generated bases)."""
    found: set[type] = set()
    for module_info in pkgutil.iter_modules(mycity.domain.__path__):
        module = importlib.import_module(f"mycity.domain.{module_info.name}")
        for _, aggregate in inspect.getmembers(module, inspect.isclass):
            if not issubclass(aggregate, Aggregate) or aggregate.__module__ != module.__name__:
                continue
            for name, member in vars(aggregate).items():
                if (
                    inspect.isclass(member)
                    and issubclass(member, Aggregate.Event)
                    and name not in {"Event", "Created"}
                ):
                    found.add(member)
    return found


def test_every_event_is_in_the_catalogue_with_its_topic() -> None:
    events = recorded_event_classes()
    assert len(events) >= 15
    missing = sorted(get_topic(e) for e in events if f"`{get_topic(e)}`" not in CATALOGUE)
    assert missing == []


def documented_personal_fields() -> dict[str, dict[str, str]]:
    """Each event's fields the catalogue marks personal, with their kinds, by qualified name."""
    found: dict[str, dict[str, str]] = {}
    names: list[str] = []
    for line in CATALOGUE.splitlines():
        if line.startswith("### "):
            names = [n.strip() for n in line[4:].split(",")]
            for name in names:
                found[name] = {}
        elif names and (marked := re.match(r"\| `(\w+)` \| `[^`]*`, personal \((\w+)\)", line)):
            for name in names:
                found[name][marked.group(1)] = marked.group(2)
    return found


def test_the_personal_fields_sealed_are_those_the_catalogue_marks() -> None:
    """An event class does not inherit its aggregate's declaration: a field the catalogue
    calls personal is sealed only if its own class declares it."""
    documented = documented_personal_fields()
    for event in recorded_event_classes():
        declared = personal_of(event)
        sealed = {f: k.value for f, k in declared.fields.items()} if declared else {}
        assert sealed == documented.get(event.__qualname__, {}), event.__qualname__
