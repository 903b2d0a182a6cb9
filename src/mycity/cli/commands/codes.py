"""City codes: verify one offline, from its QR text or a picture of it.

Offline means with the published keys at hand (`GET /city-code/keys`), as a transit gate or
a shop's scanner would. It creates nothing: without `--keys` it uses the keys of the city
whose keys this machine holds, if any.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from mycity.cli.app import Failure
from mycity.cli.files import read_text
from mycity.cli.offline import held_rings
from mycity.cli.refusals import code_refused
from mycity.cli.scanned import code_text
from mycity.verifier.city_code import QR_PREFIX, CodeKeys, load_code_keys, verify_code

group = typer.Typer(help="City codes: verify one offline.", no_args_is_help=True)
PUBLISHED = "GET /city-code/keys"


def register(cli: typer.Typer) -> None:
    cli.add_typer(group, name="code")


def published_keys(keys_file: Path | None) -> CodeKeys:
    if keys_file is None:
        ring = held_rings(["code-signing"], PUBLISHED)["code-signing"]
        return load_code_keys(ring.city_code_jwks())
    try:
        return load_code_keys(read_text(keys_file, "--keys"))
    except ValueError as e:
        raise Failure(f"{keys_file} is not the city-code keys (a JWKS, {PUBLISHED}): {e}") from None


@group.command()
def verify(
    code: Annotated[str, typer.Argument(help="The QR text (MC1:...), or a PNG/JPEG of the code.")],
    keys_file: Annotated[
        Path | None,
        typer.Option("--keys", help=f"The keys ({PUBLISHED}); default: this machine's city's."),
    ] = None,
    skew: Annotated[float, typer.Option(help="Clock skew allowed, seconds.")] = 30.0,
) -> None:
    """Say whether a city code is authentic and fresh, and what it may be used for; exit 1
    if it is not."""
    text = code_text(code, QR_PREFIX)
    verdict = verify_code(text, published_keys(keys_file), now=time.time(), skew=skew)
    if not verdict.ok:
        typer.echo(code_refused(verdict))
        raise typer.Exit(1)
    assert verdict.colour is not None and verdict.expires_at is not None
    purposes = ", ".join(sorted(p.value for p in verdict.purposes))
    cards = ", ".join(sorted(c.value for c in verdict.cards)) or "none"
    left = max(0, round(verdict.expires_at - time.time()))
    typer.echo(f"VALID: {verdict.colour.value}; for {purposes}")
    typer.echo(f"  cards: {cards}; expires in {left} s")
