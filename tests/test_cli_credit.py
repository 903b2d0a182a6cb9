"""`mycity credit rules check`: a good file is said good in one line; a bad one is one line
naming the file, the rule and the field, exit 2; nothing is opened or created (it runs
before a deployment, with no city at hand)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mycity.cli import cli

SHIPPED = (resources.files("mycity.data") / "credit" / "rules.json").read_text("utf-8")


def check(path: Path, tmp_path: Path) -> tuple[int, list[str]]:
    data_dir = tmp_path / "var"
    env = {"MYCITY_DATA_DIR": str(data_dir)}
    result = CliRunner().invoke(cli, ["credit", "rules", "check", str(path)], env=env)
    assert "Traceback" not in result.output
    assert not data_dir.exists()  # an offline command creates no server state
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


def test_the_shipped_rules_are_good(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(SHIPPED, encoding="utf-8")
    code, lines = check(path, tmp_path)
    assert code == 0
    assert lines == [
        "rules.json: good: base 600; excellent ≥ 700, good ≥ 600, normal ≥ 550, "
        "restricted ≥ 0; 5 rules"
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (None, "error: cannot read"),
        ("{", "error: new.json: not JSON"),
        (
            json.dumps(json.loads(SHIPPED) | {"rules": [{"code": "X1"}]}),
            "error: new.json: rule 1: event: missing",
        ),
    ],
)
def test_a_bad_rules_file_is_one_line_and_exit_2(
    tmp_path: Path, text: str | None, says: str
) -> None:
    path = tmp_path / "new.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    code, lines = check(path, tmp_path)
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith(says), lines
