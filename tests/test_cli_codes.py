"""`mycity code verify`: a city code checked offline from its text or a picture, with the
city's published keys, and refused once its key is withdrawn."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from mycity.bootstrap import City
from mycity.cli import cli
from mycity.integrations.qr import render_png
from mycity.verifier.city_code import Card, Colour, Purpose, issue_code, seal_subject


def city_code(city: City, issued_at: int | None = None) -> str:
    ring = city.keys.code_signing
    return issue_code(
        ring.private_key(),
        ring.code_keys()[ring.active_kid],
        subject_ref=seal_subject(os.urandom(32), os.urandom(8)),
        purposes=[Purpose.TRANSIT, Purpose.IDENTITY],
        colour=Colour.YELLOW,
        cards=[Card.TRANSIT],
        issued_at=int(time.time()) if issued_at is None else issued_at,
    )


def test_a_picture_of_a_code_verifies_offline_until_its_key_is_withdrawn(
    city: City, env: dict[str, str], tmp_path: Path
) -> None:
    text = city_code(city)
    picture, keys = tmp_path / "code.png", tmp_path / "keys.json"
    picture.write_bytes(render_png(text))
    keys.write_text(json.dumps(city.keys.code_signing.city_code_jwks()))
    runner = CliRunner()
    seen = runner.invoke(cli, ["code", "verify", str(picture), "--keys", str(keys)])
    assert seen.exit_code == 0, seen.output
    assert seen.output.startswith("VALID: yellow; for identity, transit")
    assert "cards: transit" in seen.output
    own = runner.invoke(cli, ["code", "verify", text], env=env)  # this city's keys
    assert own.exit_code == 0, own.output
    middle = len(text) // 2
    changed = "1" if text[middle] != "1" else "2"
    tampered = text[:middle] + changed + text[middle + 1 :]
    forged = runner.invoke(cli, ["code", "verify", tampered, "--keys", str(keys)])
    assert forged.exit_code == 1 and forged.output.startswith("REFUSED: ")
    kid = city.keys.code_signing.active_kid
    done = runner.invoke(cli, ["keys", "withdraw", "code-signing", kid], env=env)
    assert done.exit_code == 0, done.output
    refused = runner.invoke(cli, ["code", "verify", text], env=env)
    assert (refused.exit_code, refused.stdout) == (
        1,
        "REFUSED: withdrawn_key: signed with a key the city has withdrawn: do not trust it\n",
    )


def test_an_expired_code_says_when_it_expired_and_what_to_do(
    city: City, env: dict[str, str]
) -> None:
    issued = int(time.time()) - 600
    refused = CliRunner().invoke(cli, ["code", "verify", city_code(city, issued)], env=env)
    expired = datetime.fromtimestamp(issued + 60, UTC)  # a city code lives 60 s
    assert (refused.exit_code, refused.stdout) == (
        1,
        f"REFUSED: expired: it expired at {expired:%Y-%m-%d %H:%M:%S}Z: ask the holder to show "
        "a fresh one\n",
    )
