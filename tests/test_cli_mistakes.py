"""A newcomer's mistakes at the `mycity` command: one line that says what is wrong and what
to do, exit code 2 for bad input and 1 for what is not there; never a traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mycity.cli import cli
from mycity.integrations.qr import render_png
from mycity.settings import Settings
from tests.helpers import CitizenFactory


def run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, env=env)
    return result.exit_code, result.output


def one_line(output: str) -> str:
    errors = [line for line in output.splitlines() if line.strip()]
    assert len(errors) == 1, output
    assert "Traceback" not in output
    assert errors[0].startswith("error: "), output
    return errors[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["staff", "add", "s-1", "--role", "BOSS", "--name", "X"], "is not one of"),
        (["partner", "add", "p-1", "--role", "OFFICER", "--name", "P"], "is not one of"),
        (["staff", "add", "s-2", "--role", "OFFICER", "--name", "X"], "needs --department"),
        (["staff", "add", "s-3", "--role", "AUDITOR", "--name", "  "], "INVALID_NAME"),
        (["sms", "outbox", "--last", "0"], "--last"),
        (["sms", "outbox", "--last", "-1"], "--last"),
        (["serve", "--port", "70000"], "--port"),
        (["keys", "retire", "token-signing", "nope"], "has no key 'nope'"),
        (["keys", "retire", "no-such-ring", "x"], "no-such-ring"),
        (["projections", "rebuild", "nothing"], "no read model 'nothing'"),
        (["projections", "rebuild"], "or give --all"),
        (["projections", "rebuild", "directory", "--all"], "or give --all"),
        (["export-schema", "no/such/folder/schema.graphql"], "no folder"),
        (["no-such-command"], "No such command"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    env: dict[str, str], args: list[str], says: str
) -> None:
    code, output = run(args, env)
    assert code == 2, output
    assert says in one_line(output)


def test_roles_are_taken_in_any_case(env: dict[str, str]) -> None:
    code, output = run(["staff", "add", "s-4", "--role", "auditor", "--name", "审"], env)
    assert code == 0, output


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("MYCITY_ACCESS_TOKEN_SECONDS", "abc", "MYCITY_ACCESS_TOKEN_SECONDS must be a whole"),
        ("MYCITY_REFRESH_TOKEN_SECONDS", "-5", "MYCITY_REFRESH_TOKEN_SECONDS"),
        ("MYCITY_DATABASE_URL", "mysql://db/city", "not mysql://"),
    ],
)
def test_a_wrong_setting_is_named(
    env: dict[str, str], variable: str, value: str, says: str
) -> None:
    code, output = run(["projections", "status"], env | {variable: value})
    assert code == 2 and says in one_line(output)


def test_an_sqlite_url_is_taken_as_the_file(env: dict[str, str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/other.sqlite"
    code, output = run(["projections", "status"], env | {"MYCITY_DATABASE_URL": url})
    assert code == 0, output
    assert (tmp_path / "other.sqlite").exists()


def test_postgresql_not_there_fails_fast_in_one_line(env: dict[str, str]) -> None:
    for url, says in [
        ("postgresql://postgres@127.0.0.1:1/test", "cannot reach PostgreSQL"),
        ("postgresql://postgres@127.0.0.1:5432/no_such_database_here", "does not exist"),
    ]:
        code, output = run(["projections", "status"], env | {"MYCITY_DATABASE_URL": url})
        assert code == 1 and says in one_line(output), output


def test_postgresql_without_keys_or_schema_says_what_to_do(
    env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    if not settings.is_postgres:
        pytest.skip("keys are generated for the embedded store; schemas are PostgreSQL's")
    no_keys = env | {"MYCITY_KEYS_DIR": str(tmp_path / "none")}
    code, output = run(["projections", "status"], no_keys)
    assert code == 2 and "mycity keys init" in one_line(output)
    no_schema = env | {"MYCITY_DATABASE_URL": settings.database_url + "_missing"}
    code, output = run(["projections", "status"], no_schema)
    assert code == 1 and "CREATE SCHEMA" in one_line(output)


def test_paths_that_cannot_be_used_are_named(env: dict[str, str], tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    for variable in ("MYCITY_DATA_DIR", "MYCITY_KEYS_DIR"):
        code, output = run(["projections", "status"], env | {variable: str(a_file / "x")})
        assert code == 1 and "cannot use" in one_line(output), output


def test_the_runner_waits_for_a_store_that_is_not_there_yet(env: dict[str, str]) -> None:
    """`projections run` is supervised: it keeps trying with a growing pause, not exit."""
    unreachable = env | {"MYCITY_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/test"}
    runner = subprocess.Popen(
        [sys.executable, "-m", "mycity", "projections", "run"],
        env=os.environ | unreachable,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert runner.stderr is not None
        said = [runner.stderr.readline() for _ in range(2)]  # two tries, a pause between
        assert runner.poll() is None, said  # still running
        assert all("cannot reach PostgreSQL" in line and "trying again" in line for line in said)
        runner.send_signal(signal.SIGTERM)  # a supervisor's stop (SIGINT may be ignored)
        assert runner.wait(timeout=20) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()


NO_CITY = {"MYCITY_DATA_DIR": None, "MYCITY_KEYS_DIR": None, "MYCITY_DATABASE_URL": None}


@pytest.mark.parametrize(
    ("args", "keys_from"),
    [
        (["licence", "verify", "LC1:ABC"], "GET /licences/keys"),
        (["code", "verify", "MC1:ABC"], "GET /city-code/keys"),
    ],
)
def test_an_offline_verifier_creates_nothing_and_says_where_to_get_the_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], keys_from: str
) -> None:
    monkeypatch.chdir(tmp_path)  # an empty directory, on a machine that holds no city
    result = CliRunner().invoke(cli, args, env=NO_CITY)
    assert result.exit_code == 2, result.output
    line = one_line(result.output)
    assert keys_from in line and "--keys FILE" in line
    assert list(tmp_path.iterdir()) == []  # no keys, no data directory, no database


@pytest.mark.parametrize("args", [["licence", "verify", "LC1:ABC"], ["code", "verify", "MC1:ABC"]])
def test_on_a_citys_machine_a_verifier_reads_its_keys_and_opens_no_store(
    env: dict[str, str], settings: Settings, args: list[str]
) -> None:
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1 and result.stdout.startswith("REFUSED: malformed: ")
    assert [p.name for p in settings.data_dir.iterdir()] == ["keys"]  # no database made


@pytest.mark.parametrize("command", ["licence", "code"])
@pytest.mark.parametrize("missing", ["code.png", "scans/code", "CODE.JPEG", "code.jpg"])
def test_a_file_that_is_not_there_is_named_not_read_as_a_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, missing: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = run([command, "verify", missing, "--keys", "keys.json"], {})
    assert (code, one_line(output)) == (2, f"error: no such file: {missing}")


@pytest.mark.parametrize(
    ("args", "given_to"),
    [
        (["licence", "verify", "LC1:ABC", "--keys"], " (given to --keys)"),
        (["code", "verify", "MC1:ABC", "--keys"], " (given to --keys)"),
        (["audit", "verify", "--against"], " (given to --against)"),
        (["health", "import"], ""),
    ],
)
def test_a_file_given_that_is_not_there_is_named_not_the_settings_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], given_to: str
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "missing.json"
    code, output = run([*args, str(missing)], NO_CITY)
    line = one_line(output)
    assert code == 2 and line.startswith(f"error: no such file: {tmp_path}/missing.json"), line
    assert line.endswith(given_to or "missing.json") and "settings" not in line
    assert [p.name for p in tmp_path.iterdir()] == []


@pytest.mark.parametrize(
    ("command", "text", "says"),
    [
        (
            "licence",
            "MC1:ABC",
            "this is a city code (MC1:), not a licence presentation: verify "
            "it with `mycity code verify`",
        ),
        (
            "code",
            "LC1:ABC",
            "this is a licence presentation (LC1:), not a city code: verify it "
            "with `mycity licence verify`",
        ),
        (
            "code",
            "MP1:ABC",
            "this is a place code (MP1:), not a city code: a citizen's app "
            "checks in with it (`checkIn`)",
        ),
        ("licence", "MP1:ABC", "this is a place code (MP1:), not a licence presentation"),
    ],
)
def test_a_code_of_another_kind_says_which_command_reads_it(
    tmp_path: Path, command: str, text: str, says: str
) -> None:
    picture = tmp_path / "code.png"
    picture.write_bytes(render_png(text))
    for given in (text, str(picture)):
        code, output = run([command, "verify", given, "--keys", "keys.json"], {})
        assert code == 2 and one_line(output).startswith(f"error: {says}"), output


def test_a_picture_without_a_code_is_said_to_have_none(tmp_path: Path) -> None:
    picture = tmp_path / "blank.png"
    picture.write_bytes(render_png("x")[:8] + b"not a picture after all")
    code, output = run(["licence", "verify", str(picture)], {})
    assert code == 2 and "no QR code found in" in one_line(output)


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]])
def test_a_port_in_use_is_one_line_before_anything_is_loaded_or_printed(
    env: dict[str, str], settings: Settings, workers: list[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, output = run(["serve", "--demo", "--port", str(port), *workers], env)
    assert (code, one_line(output)) == (
        1,
        f"error: port {port} on 127.0.0.1 is in use: stop what listens there, or serve on "
        "another --port",
    )
    assert [p.name for p in settings.data_dir.iterdir()] == ["keys"]  # no demo, no secrets


def test_a_version_beyond_the_files_end_names_its_last(
    env: dict[str, str], people: CitizenFactory
) -> None:
    person = people.register("终")
    state = ["audit", "state", person.id_number, "--purpose", "annual audit"]
    code, output = run([*state, "--version", "2"], env)
    assert (code, one_line(output)) == (
        2,
        "error: NOT_FOUND: The file's last version is 1; there is no 2",
    )
    for version in ("0", "-1"):
        code, output = run([*state, "--version", version], env)
        assert code == 2 and "--version" in one_line(output)
