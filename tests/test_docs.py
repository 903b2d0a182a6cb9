"""The docs say what the code does: every recorded event is in the event catalogue, and
every command of `mycity` is in the README."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator

import typer
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic
from typer.core import TyperGroup

import mycity.domain
from mycity.cli import cli
from mycity.domain.personal import personal_of
from tests.docs_markdown import ROOT, code

CATALOGUE = (ROOT / "docs" / "events.md").read_text()


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


def commands(command: object, path: str = "") -> Iterator[str]:
    """Every command under this one, as it is typed after `mycity`: `audit prove`."""
    if not isinstance(command, TyperGroup):
        yield path
        return
    for name, sub in command.commands.items():
        yield from commands(sub, f"{path} {name}".strip())


def operations_table() -> set[str]:
    """The commands in the CLI table of docs/operations.md, by their first cell."""
    section = (ROOT / "docs" / "operations.md").read_text().split("\n## CLI\n")[1]
    table = section.split("\n## ")[0]
    return set(re.findall(r"^\| `([a-z][a-z-]*(?: [a-z][a-z-]*)?)[ `]", table, re.MULTILINE))


def test_every_command_is_in_the_readme() -> None:
    spans = [c.text.removeprefix("mycity ") for c in code(ROOT / "README.md") if c.info is None]
    table = operations_table()
    assert {"serve", "audit prune-access-records", "code verify"} <= table
    wanted = set(commands(typer.main.get_command(cli))) | table
    missing = {w for w in wanted if not any(s == w or s.startswith(w + " ") for s in spans)}
    assert missing == set(), "list them in the README's table of commands"


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
