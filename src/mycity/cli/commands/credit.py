"""`mycity credit`: check a credit rules file before it is deployed (offline: nothing is
opened or created)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mycity.cli.app import Failure
from mycity.domain.credit_rules import CreditRulesError, parse_credit_rules

group = typer.Typer(help="City credit: its rules.", no_args_is_help=True)
rules = typer.Typer(help="The credit rules file (data/credit/rules.json).", no_args_is_help=True)
group.add_typer(rules, name="rules")


@rules.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="The rules file to check.", metavar="FILE")],
) -> None:
    """Check a rules file whole, as the city does at start: every problem is one line that
    names the rule and the field."""
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except OSError as e:
        raise Failure(f"cannot read {file}: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Failure(f"{file.name}: not JSON: {e}") from None
    try:
        parsed = parse_credit_rules(file.name, document)
    except CreditRulesError as e:
        raise Failure(str(e)) from None
    tiers = ", ".join(f"{tier.value.lower()} ≥ {lowest}" for tier, lowest in parsed.thresholds)
    typer.echo(f"{file.name}: good: base {parsed.base}; {tiers}; {len(parsed.rules)} rules")


def register(cli: typer.Typer) -> None:
    cli.add_typer(group, name="credit")
