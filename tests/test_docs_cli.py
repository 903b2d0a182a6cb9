"""operations.md's CLI table names every command the `mycity` command has, each option of
it, and an example that runs it: a command added without its row fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from mycity.cli import cli

OPERATIONS = (Path(__file__).parent.parent / "docs" / "operations.md").read_text()
ROW = re.compile(r"^\| `([^`]+)` \| `mycity ([^`]+)` \|", re.MULTILINE)


def commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, list[str]]]:
    """Each command's words (`audit check-proof`) and its long options."""
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from commands(sub, (*path, name))
        return
    options = [
        o
        for p in command.params
        if p.param_type_name == "option"
        for o in p.opts
        if o.startswith("--") and o != "--help"
    ]
    yield " ".join(path), options


def test_every_command_has_a_row_with_its_options_and_an_example() -> None:
    rows = {m.group(1): m.group(2) for m in ROW.finditer(OPERATIONS)}
    found = list(commands(typer.main.get_command(cli)))
    assert len(found) >= 29
    for name, options in found:
        row = [s for s in rows if s == name or s.startswith(f"{name} ")]
        assert len(row) == 1, f"`{name}` has no row in operations.md's CLI table"
        synopsis, example = row[0], rows[row[0]]
        assert [o for o in options if o not in synopsis] == [], f"`{name}`'s row lacks them"
        assert example == name or example.startswith(f"{name} "), f"`{name}`'s example"
