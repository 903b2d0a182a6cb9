"""The audit, as the issue tells it, on the demo city: an auditor exports a checkpoint;
someone edits one row directly in the database; `mycity audit verify --against` names that
row; the auditor replays a citizen's file as it was at a past moment; the citizen sees that
the auditor read it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from mycity.bootstrap import City
from mycity.cli import cli
from mycity.demo import CITIZENS
from mycity.verifier.checkpoint import verify_checkpoint
from mycity.verifier.note import parse_verifier_key
from tests.helpers import Api

WANG = CITIZENS[0]
STATE = """query($id: ID!, $at: DateTime!) {
  auditState(subject: $id, at: $at, purpose: "2026 annual audit: file history") {
    version recordedAt state } }"""
ACCESSES = """{ me { citizen { dataAccesses { edges { node {
  readerRole readerName read fields purpose at } } } } } }"""


def test_an_auditor_proves_an_edit_replays_a_file_and_the_citizen_sees_it(
    api: Api,
    city: City,
    demo: dict[str, dict[str, str]],
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    exported = tmp_path / "checkpoint.txt"
    signed = runner.invoke(cli, ["audit", "checkpoint", "--export", str(exported)], env=env)
    assert signed.exit_code == 0, signed.output
    [key] = runner.invoke(cli, ["audit", "key"], env=env).stdout.split()
    checkpoint = verify_checkpoint(exported.read_text(), parse_verifier_key(key))
    assert checkpoint is not None and checkpoint.size == city.files.head()

    wang = api.log_in_citizen(WANG.phone)["accessToken"]
    wang_id = api.run("{ me { citizen { id } } }", token=wang)["me"]["citizen"]["id"]
    change = "mutation($a: String!) { changeContact(input: {address: $a}) { userErrors { code } } }"
    api.run(change, {"a": "武陵区洞庭大道1号"}, wang)
    time.sleep(0.01)
    yesterday_noon = datetime.now(UTC)  # as it stood then
    time.sleep(0.01)
    api.run(change, {"a": "鼎城区善卷路2号"}, wang)

    auditor = api.log_in_client("auditor-01", demo["auditor-01"]["secret"])
    then = api.run(STATE, {"id": wang_id, "at": yesterday_noon.isoformat()}, auditor)
    assert then["auditState"]["state"]["address"] == "武陵区洞庭大道1号"
    assert then["auditState"]["state"]["name"] == WANG.name
    assert WANG.id_number not in repr(then)  # masked for auditors

    assert city.read_models.wait(city.files.head(), "data_access")  # the list is a read model
    seen = api.run(ACCESSES, token=wang)["me"]["citizen"]["dataAccesses"]["edges"]
    assert [e["node"]["read"] for e in seen] == ["audit.state"]
    assert seen[0]["node"]["readerRole"] == "AUDITOR"
    assert seen[0]["node"]["purpose"] == "2026 annual audit: file history"

    edited = 5  # a row of the exported log, edited behind the system's back
    table = city.db.table(city.files.recorder.events_table_name)  # type: ignore[attr-defined]
    column = "notification_id" if city.db.dialect == "postgres" else "rowid"
    with city.db.transaction() as cur:
        cur.execute(f"UPDATE {table} SET originator_version = 99 WHERE {column} = ?", (edited,))
    verified = runner.invoke(cli, ["audit", "verify", "--against", str(exported)], env=env)
    assert verified.exit_code == 1
    assert f"TAMPERED: position {edited} was changed after it was recorded" in verified.output
