"""Everything holding personal data or keys is 600 in a 700 directory, whoever creates it."""

from __future__ import annotations

import stat
from pathlib import Path

from typer.testing import CliRunner

from mycity.cli import cli


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_command_keeps_the_data_private(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "var"  # neither exists yet
    env = {"MYCITY_DATA_DIR": str(data), "MYCITY_DATABASE_URL": "", "MYCITY_KEYS_DIR": ""}
    runner = CliRunner()
    assert runner.invoke(cli, ["keys", "init"], env=env).exit_code == 0
    assert mode(data) == 0o700 and mode(data / "keys") == 0o700
    assert {mode(p) for p in (data / "keys").iterdir()} == {0o600}

    assert runner.invoke(cli, ["demo"], env=env).exit_code == 0
    assert runner.invoke(cli, ["sms", "outbox"], env=env).exit_code == 0
    files = [p for p in data.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    for expected in ("mycity.sqlite", "population-register.jsonl", "demo-logins.json"):
        assert expected in names
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    assert {mode(p) for p in data.rglob("*") if p.is_dir()} | {mode(data)} == {0o700}


def test_files_found_looser_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "var"
    env = {"MYCITY_DATA_DIR": str(data), "MYCITY_DATABASE_URL": "", "MYCITY_KEYS_DIR": ""}
    runner = CliRunner()
    assert runner.invoke(cli, ["demo"], env=env).exit_code == 0
    data.chmod(0o755)
    (data / "mycity.sqlite").chmod(0o644)
    assert runner.invoke(cli, ["projections", "status"], env=env).exit_code == 0
    assert mode(data) == 0o700 and mode(data / "mycity.sqlite") == 0o600
