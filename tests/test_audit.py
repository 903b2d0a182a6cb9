"""Audit: checkpoints others can check, proofs against them, and replays of files and
screens as they were, each read recorded for the person to see."""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mycity.bootstrap import City
from mycity.cli import cli
from mycity.domain.errors import ErrorCode, UserError
from mycity.projections.subject_history import HistoryPage
from mycity.verifier.checkpoint import Checkpoint, parse_checkpoint, verify_checkpoint
from mycity.verifier.merkle import leaf_hash, verify_consistency, verify_inclusion
from mycity.verifier.note import parse_verifier_key, sign_note
from tests.helpers import AUDITOR, OFFICER, WHY, CitizenFactory, access_records

AUDIT_DOC = (Path(__file__).parent.parent / "docs" / "audit.md").read_text()


def _pause() -> datetime:
    """A moment strictly between what was recorded before and what is recorded after."""
    time.sleep(0.01)
    moment = datetime.now(UTC)
    time.sleep(0.01)
    return moment


def test_a_checkpoint_is_a_signed_note_any_note_verifier_checks(
    city: City, people: CitizenFactory
) -> None:
    people.register("签")
    kept = city.audit.sign_checkpoint()
    assert (kept.size, kept.root) == (city.files.head(), city.tree.root())
    [key] = city.audit.verifier_keys()
    name, key_hash, _ = key.split("+", 2)  # the base64 may hold "+" too
    assert name == city.settings.audit.origin and len(key_hash) == 8
    checkpoint = verify_checkpoint(kept.note, parse_verifier_key(key), name)
    assert checkpoint is not None and (checkpoint.size, checkpoint.root) == (kept.size, kept.root)
    body, _, signature = kept.note.partition("\n\n")
    assert body.splitlines()[:2] == [name, str(kept.size)]
    assert signature.startswith(f"— {name} ")
    assert city.audit.sign_checkpoint() == kept  # nothing new: the same one stands
    forged = kept.note.replace(f"\n{kept.size}\n", f"\n{kept.size + 1}\n")
    assert verify_checkpoint(forged, parse_verifier_key(key), name) is None
    with pytest.raises(UserError):
        city.audit.open_checkpoint(forged)


def test_checkpoints_are_signed_at_intervals_only_while_the_log_grows(
    city: City, people: CitizenFactory
) -> None:
    def interval_passes() -> None:
        with city.db.transaction() as cur:
            cur.execute(f"UPDATE {city.db.table('checkpoints')} SET signed_at = signed_at - 601")
        city.audit._next_due = 0.0

    people.register("时")
    assert city.audit.sign_if_due() == 1
    assert city.audit.sign_if_due() == 0  # not due yet
    interval_passes()
    assert city.audit.sign_if_due() == 0  # due, but nothing new to sign
    people.register("间")
    city.tree.run_once()
    assert city.audit.sign_if_due() == 1  # due, and the log grew
    people.register("又")
    city.tree.run_once()
    assert city.audit.sign_if_due() == 0  # grew, but not due again yet
    latest = city.audit.checkpoints.latest()
    assert latest is not None and latest.size == city.files.head() - 2
    city.audit.settings = replace(city.audit.settings, checkpoint_seconds=0)
    interval_passes()
    people.register("停")
    assert city.audit.sign_if_due() == 0  # 0: never


def test_inclusion_and_consistency_proofs_verify_offline(
    city: City, people: CitizenFactory
) -> None:
    first = people.register("证")
    old = city.audit.sign_checkpoint()
    people.register("明")
    new = city.audit.sign_checkpoint()
    proof = city.audit.inclusion(AUDITOR, 1)  # the first event, against the latest checkpoint
    assert proof.tree_size == new.size
    leaf = leaf_hash(proof.record)
    assert verify_inclusion(leaf, proof.leaf_index, new.size, proof.proof, new.root)
    assert first.id.bytes in proof.record  # the record is the stored event's own
    consistency = city.audit.consistency(AUDITOR, old.size)
    assert (consistency.from_size, consistency.to_size) == (old.size, new.size)
    assert (consistency.from_root, consistency.to_root) == (old.root, new.root)
    assert verify_consistency(old.size, new.size, consistency.proof, old.root, new.root)
    assert not verify_consistency(old.size, new.size, consistency.proof, new.root, new.root)
    with pytest.raises(UserError) as refused:
        city.audit.inclusion(OFFICER, 1)
    assert refused.value.code is ErrorCode.FORBIDDEN
    with pytest.raises(UserError) as small:
        city.audit.inclusion(AUDITOR, city.files.head(), old.size)
    assert small.value.code is ErrorCode.TREE_TOO_SMALL


def test_history_pages_by_type_and_time_with_identifiers_masked(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("史")
    city.citizens.change_contact(person.principal, None, None, "一号")
    between = _pause()
    city.citizens.change_contact(person.principal, None, None, "二号")
    city.read_models.catch_up()
    history = city.reads.audit.history
    everything = history(AUDITOR, person.id, HistoryPage(10), WHY)
    assert [e.type for e in everything] == [
        "Citizen.Registered",
        "Citizen.ContactChanged",
        "Citizen.ContactChanged",
    ]
    registered = everything[0].data
    assert registered["name"] == "史" and "*" in registered["id_number"]
    assert person.id_number not in repr(everything) and person.phone not in repr(everything)
    assert [e.version for e in history(AUDITOR, person.id, HistoryPage(1, 1), WHY)] == [2, 3]
    changes = history(AUDITOR, person.id, HistoryPage(10, types=("Citizen.ContactChanged",)), WHY)
    assert [e.data["address"] for e in changes] == ["一号", "二号"]
    before = history(AUDITOR, person.id, HistoryPage(10, until=between), WHY)
    assert [e.version for e in before] == [1, 2]
    positions = [e.position for e in everything]
    assert positions == sorted(positions) and positions[-1] <= city.files.head()


def test_a_file_at_a_version_or_a_moment_is_what_it_was_then(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("态")
    city.citizens.change_contact(person.principal, None, None, "旧址")
    then = _pause()
    city.citizens.change_contact(person.principal, None, None, "新址")
    city.read_models.catch_up()
    state = city.reads.audit.state
    assert state(AUDITOR, person.id, None, then, WHY).state["address"] == "旧址"
    assert state(AUDITOR, person.id, 2, None, WHY).state["address"] == "旧址"
    now = state(AUDITOR, person.id, 3, None, WHY)
    assert (now.version, now.kind, now.state["address"]) == (3, "Citizen", "新址")
    assert "*" in now.state["phone"] and person.phone not in repr(now.state)
    with pytest.raises(UserError) as early:
        state(AUDITOR, person.id, None, datetime(2000, 1, 1, tzinfo=UTC), WHY)
    assert early.value.code is ErrorCode.NOT_FOUND


def test_a_version_beyond_the_files_last_or_below_1_is_refused(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("末")  # one event: version 1 is its last
    state = city.reads.audit.state
    assert state(AUDITOR, person.id, 1, None, WHY).version == 1
    with pytest.raises(UserError) as beyond:
        state(AUDITOR, person.id, 2, None, WHY)
    assert (beyond.value.code, beyond.value.field) == (ErrorCode.NOT_FOUND, "version")
    assert "last version is 1" in beyond.value.message
    for version in (0, -1):
        with pytest.raises(UserError) as below:
            state(AUDITOR, person.id, version, None, WHY)
        assert (below.value.code, below.value.field) == (ErrorCode.INVALID_ARGUMENT, "version")


def test_a_screen_as_it_stood_at_a_past_position(city: City, people: CitizenFactory) -> None:
    person = people.register("屏")
    city.citizens.change_contact(person.principal, None, None, "甲街")
    city.read_models.catch_up()
    shown_then = city.reads.citizens.profile(person.principal, person.id)
    reached = city.files.head()
    city.citizens.change_contact(person.principal, None, None, "乙街")
    screen = city.reads.audit.screen(AUDITOR, "citizen_profile", person.id, reached, None, WHY)
    assert screen.row is not None and screen.position == reached
    assert screen.row["address"] == "甲街" == (shown_then and shown_then.address)
    assert screen.row["version"] == 2
    with pytest.raises(UserError) as unknown:
        city.reads.audit.screen(AUDITOR, "data_access", person.id, reached, None, WHY)
    assert unknown.value.field == "readModel"


def test_every_replay_is_a_read_the_person_sees(city: City, people: CitizenFactory) -> None:
    person = people.register("见")
    city.read_models.catch_up()
    with pytest.raises(UserError) as no_purpose:
        city.reads.audit.history(AUDITOR, person.id, HistoryPage(10), None)
    assert no_purpose.value.code is ErrorCode.PURPOSE_REQUIRED
    with pytest.raises(UserError) as officer:
        city.reads.audit.state(OFFICER, person.id, 1, None, WHY)
    assert officer.value.code is ErrorCode.FORBIDDEN
    city.reads.audit.history(AUDITOR, person.id, HistoryPage(10), "annual audit 2026")
    city.reads.audit.state(AUDITOR, person.id, 1, None, "annual audit 2026")
    assert [a.read for a in access_records(city)] == ["audit.history", "audit.state"]
    city.read_models.catch_up()
    seen = city.reads.access.of_person(person.principal, person.id, 10, None)
    assert {(a.reader_role, a.read, a.purpose) for a in seen} == {
        ("AUDITOR", "audit.history", "annual audit 2026"),
        ("AUDITOR", "audit.state", "annual audit 2026"),
    }


def test_an_exported_checkpoint_parses_as_the_tlog_format(
    city: City, people: CitizenFactory
) -> None:
    people.register("式")
    kept = city.audit.sign_checkpoint()
    body = kept.note.partition("\n\n")[0] + "\n"
    parsed = parse_checkpoint(body)
    assert parsed is not None and parsed.size == kept.size and parsed.root == kept.root
    [extension] = parsed.extensions
    assert extension.startswith("time ") and extension.endswith("Z")


def test_proofs_at_the_first_position_after_a_checkpoint_and_the_last_in_it(
    city: City, people: CitizenFactory
) -> None:
    people.register("前")
    kept = city.audit.sign_checkpoint()
    last = city.tree.leaf_position(kept.size - 1)
    people.register("后")
    city.tree.run_once()
    first_after = city.tree.leaf_position(kept.size)
    assert first_after > last
    inside = city.audit.inclusion(AUDITOR, last, kept.size)
    assert (inside.leaf_index, inside.tree_size) == (kept.size - 1, kept.size)
    assert int.from_bytes(inside.record[18:26], "big") == last  # the record binds it
    assert verify_inclusion(
        leaf_hash(inside.record), inside.leaf_index, kept.size, inside.proof, kept.root
    )
    with pytest.raises(UserError) as outside:
        city.audit.inclusion(AUDITOR, first_after, kept.size)
    assert outside.value.code is ErrorCode.TREE_TOO_SMALL
    with pytest.raises(UserError) as by_default:  # against the latest checkpoint, still `kept`
        city.audit.inclusion(AUDITOR, first_after)
    assert by_default.value.code is ErrorCode.TREE_TOO_SMALL
    later = city.audit.sign_checkpoint()
    proof = city.audit.inclusion(AUDITOR, first_after)
    assert (proof.leaf_index, proof.tree_size) == (kept.size, later.size)
    assert int.from_bytes(proof.record[18:26], "big") == first_after
    assert verify_inclusion(leaf_hash(proof.record), kept.size, later.size, proof.proof, later.root)


def test_a_checkpoint_of_the_log_must_carry_its_time_line(
    city: City, people: CitizenFactory
) -> None:
    people.register("钟")
    kept = city.audit.sign_checkpoint()
    assert city.audit.open_checkpoint(kept.note).size == kept.size
    origin, key = city.settings.audit.origin, city.audit.ring.private_key()
    for extensions in [(), ("time 2026-12-01T16:34:23.5Z",), ("time 2026-12-01T16:34:23Z", "x")]:
        body = Checkpoint(origin, kept.size, kept.root, extensions).text()
        with pytest.raises(UserError, match="time line") as refused:
            city.audit.open_checkpoint(sign_note(body, origin, key))
        assert refused.value.code is ErrorCode.INVALID_ARGUMENT


def documented_keys(first_key: str) -> list[str]:
    """The members of the JSON example in docs/audit.md that starts with `first_key`."""
    blocks = re.findall(r"```json\n(.*?)```", AUDIT_DOC, re.S)
    [found] = [json.loads(b) for b in blocks if b.lstrip("{ \n").startswith(first_key)]
    return list(found)


def test_the_cli_prints_the_proofs_as_docs_audit_md_shows_them(
    city: City, people: CitizenFactory, env: dict[str, str]
) -> None:
    people.register("印")
    old = city.audit.sign_checkpoint()
    people.register("证")
    new = city.audit.sign_checkpoint()
    runner = CliRunner()
    proved = runner.invoke(cli, ["audit", "prove", "1"], env=env)
    assert proved.exit_code == 0, proved.output
    proof = json.loads(proved.stdout)
    assert list(proof) == documented_keys('"position"')
    hashes = [base64.b64decode(h) for h in proof["proof"]]
    record = base64.b64decode(proof["record"])
    assert (proof["position"], proof["tree_size"]) == (1, new.size)
    assert verify_inclusion(leaf_hash(record), proof["leaf_index"], new.size, hashes, new.root)
    consistent = runner.invoke(cli, ["audit", "consistency", str(old.size)], env=env)
    assert consistent.exit_code == 0, consistent.output
    answer = json.loads(consistent.stdout)
    assert list(answer) == documented_keys('"from_size"')
    hashes = [base64.b64decode(h) for h in answer["proof"]]
    assert verify_consistency(old.size, answer["to_size"], hashes, old.root, new.root)


def test_a_proof_names_its_signed_checkpoint_and_an_unsigned_size_is_refused(
    city: City, people: CitizenFactory
) -> None:
    people.register("证")
    with pytest.raises(UserError) as none_yet:
        city.audit.inclusion(AUDITOR, 1)
    assert none_yet.value.code is ErrorCode.UNSIGNED_SIZE
    with pytest.raises(UserError) as none_yet:
        city.audit.consistency(AUDITOR, 1)
    assert none_yet.value.code is ErrorCode.UNSIGNED_SIZE
    old = city.audit.sign_checkpoint()
    people.register("明")
    new = city.audit.sign_checkpoint()
    proof = city.audit.inclusion(AUDITOR, 1)
    assert (proof.tree_size, proof.checkpoint) == (new.size, new.note)
    assert city.audit.inclusion(AUDITOR, 1, old.size).checkpoint == old.note
    with pytest.raises(UserError) as unsigned:
        city.audit.inclusion(AUDITOR, 1, old.size + 1)  # a size between the two checkpoints
    assert (unsigned.value.code, unsigned.value.field) == (ErrorCode.UNSIGNED_SIZE, "treeSize")
    consistency = city.audit.consistency(AUDITOR, old.size)
    assert (consistency.checkpoint, consistency.from_checkpoint) == (new.note, old.note)
    assert city.audit.consistency(AUDITOR, old.size + 1).from_checkpoint is None
    with pytest.raises(UserError) as unsigned_to:
        city.audit.consistency(AUDITOR, 1, old.size + 1)
    assert (unsigned_to.value.code, unsigned_to.value.field) == (ErrorCode.UNSIGNED_SIZE, "toSize")
