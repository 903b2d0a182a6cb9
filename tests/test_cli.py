"""The `mycity` command, as an operator runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from mycity.cli import cli
from tests.helpers import CitizenFactory


def test_demo_then_status_rebuild_and_provisioning(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    demo = runner.invoke(cli, ["demo"], env=env)
    assert demo.exit_code == 0, demo.output
    assert "13807360001" in demo.output and "officer-amr-01" in demo.output
    again = runner.invoke(cli, ["demo"], env=env)  # idempotent, same logins
    assert again.exit_code == 0 and again.stdout.split("Staff")[1] == demo.stdout.split("Staff")[1]

    status = runner.invoke(cli, ["projections", "status"], env=env)
    assert status.exit_code == 0
    lines = [line.split() for line in status.stdout.splitlines()[1:]]
    assert {line[0] for line in lines} == {
        "citizen_profile",
        "enterprise_profile",
        "directory",
        "data_access",
        "subject_history",
        "application_list",
        "rating_statistics",
        "wallet",
        "licence_uses",
        "scan_log",
        "agent_invitations",
        "retention",
        "payment_list",
        "settlement",
        "fare_days",
        "public_records",
    }
    assert all(line[-1] == "0" for line in lines)  # no lag

    rebuilt = runner.invoke(cli, ["projections", "rebuild", "directory"], env=env)
    assert rebuilt.exit_code == 0 and "directory: generation 2" in rebuilt.output

    added = runner.invoke(
        cli,
        ["staff", "add", "officer-x", "--role", "OFFICER", "--name", "X", "--department", "PSB"],
        env=env,
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["clientSecret"]
    wrong = runner.invoke(
        cli, ["partner", "add", "p-1", "--role", "OFFICER", "--name", "P"], env=env
    )
    assert wrong.exit_code != 0

    schema_file = tmp_path / "schema.graphql"
    assert runner.invoke(cli, ["export-schema", str(schema_file)], env=env).exit_code == 0
    assert "type Query" in schema_file.read_text()


def test_keys_rotate_keeps_old_kid(env: dict[str, str]) -> None:
    runner = CliRunner()
    ring_file = Path(env["MYCITY_KEYS_DIR"]) / "token-signing.json"
    before = json.loads(ring_file.read_text())
    rotated = runner.invoke(cli, ["keys", "rotate", "token-signing"], env=env)
    assert rotated.exit_code == 0, rotated.output
    after = json.loads(ring_file.read_text())
    assert after["active"] != before["active"]
    assert {k["kid"] for k in after["keys"]} == {before["active"], after["active"]}


def test_audit_verify_draws_its_progress_on_a_terminal_and_nothing_into_a_pipe(
    env: dict[str, str], people: CitizenFactory
) -> None:
    people.register("进度")
    runner = CliRunner()
    terminal = runner.invoke(cli, ["audit", "verify"], env=env | {"TTY_COMPATIBLE": "1"})
    assert terminal.exit_code == 0, terminal.output
    summary = terminal.stdout
    assert re.fullmatch(r"ok: \d+ events match the Merkle tree\n", summary), summary
    assert "verifying the log" in terminal.stderr
    assert re.search(r"(?<!\d)(\d+)/\1(?!\d)", terminal.stderr), terminal.stderr  # N/N at last
    piped_env: dict[str, str | None] = {**env, "TTY_COMPATIBLE": None, "FORCE_COLOR": None}
    piped = runner.invoke(cli, ["audit", "verify"], env=piped_env)  # rich's switches unset
    assert (piped.exit_code, piped.stdout, piped.stderr) == (0, summary, "")
