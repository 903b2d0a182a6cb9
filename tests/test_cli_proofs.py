"""`mycity audit check-proof`: what `audit prove` and `audit consistency` print, checked
offline against the signed checkpoints `audit checkpoint --export` writes, and refused once
anything in it is altered."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mycity.cli import cli
from tests.helpers import CitizenFactory
from tests.test_cli_mistakes import NO_CITY, one_line

Run = tuple[int, str]


def mycity(
    args: list[str], env: Mapping[str, str | None] | None = None, stdin: str | None = None
) -> Run:
    result = CliRunner().invoke(cli, args, env=env, input=stdin)
    return result.exit_code, result.stdout if result.exit_code in (0, 1) else result.output


@pytest.fixture
def logged(env: dict[str, str], people: CitizenFactory, tmp_path: Path) -> dict[str, Any]:
    """Two checkpoints kept off the system, the log's key, and the proofs to check."""
    people.register("甲")
    old = tmp_path / "old-checkpoint.txt"
    assert mycity(["audit", "checkpoint", "--export", str(old)], env)[0] == 0
    people.register("乙")
    new = tmp_path / "new-checkpoint.txt"
    assert mycity(["audit", "checkpoint", "--export", str(new)], env)[0] == 0
    code, keys = mycity(["audit", "key"], env)
    assert code == 0
    old_size, new_size = (int(p.read_text().splitlines()[1]) for p in (old, new))
    code, inclusion = mycity(["audit", "prove", "2"], env)
    assert code == 0, inclusion
    code, consistency = mycity(["audit", "consistency", str(old_size)], env)
    assert code == 0, consistency
    return {
        "old": old,
        "new": new,
        "key": keys.splitlines()[0],
        "sizes": (old_size, new_size),
        "inclusion": json.loads(inclusion),
        "consistency": json.loads(consistency),
    }


def check(proof: dict[str, Any], tmp_path: Path, *args: str) -> Run:
    file = tmp_path / "proof.json"
    file.write_text(json.dumps(proof))
    return mycity(["audit", "check-proof", str(file), *args], NO_CITY)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_what_prove_prints_checks_against_its_checkpoint(
    logged: dict[str, Any], tmp_path: Path
) -> None:
    proof, size = logged["inclusion"], logged["sizes"][1]
    assert (proof["position"], proof["tree_size"]) == (2, size)
    code, said = check(proof, tmp_path, "--checkpoint", str(logged["new"]), "--key", logged["key"])
    assert code == 0, said
    assert said == (
        f"ok: the event at position 2 is leaf {proof['leaf_index']} of the tree of {size} events "
        f"(root {proof['root']}), as signed in {logged['new']}\n"
    )
    assert check(proof, tmp_path)[0] == 0  # the hashes alone


def test_what_consistency_prints_checks_against_both_checkpoints(
    logged: dict[str, Any], tmp_path: Path
) -> None:
    proof = logged["consistency"]
    assert (proof["from_size"], proof["to_size"]) == logged["sizes"]
    both = ["--checkpoint", str(logged["old"]), "--checkpoint", str(logged["new"])]
    code, said = check(proof, tmp_path, *both, "--key", logged["key"])
    assert code == 0, said
    assert said.startswith(f"ok: the tree of {logged['sizes'][1]} events (root ")
    assert said.endswith(
        f"only appended to the tree of {logged['sizes'][0]} (root "
        f"{proof['from_root']}), as signed in {logged['old']} and {logged['new']}\n"
    )


def flipped(text: str) -> str:
    data = bytearray(base64.b64decode(text))
    data[-1] ^= 1
    return b64(bytes(data))


@pytest.mark.parametrize(
    ("member", "change", "reasons"),
    [
        ("root", flipped, "bad_proof"),
        ("record", flipped, "bad_proof"),
        ("proof", lambda hashes: [flipped(hashes[0]), *hashes[1:]], "bad_proof"),
        ("proof", lambda hashes: hashes[:-1], "bad_proof"),
        ("leaf_index", lambda index: index + 1, "bad_proof"),
        ("position", lambda position: position + 1, "wrong_position"),
        # A path may hold for a larger size too (RFC 9162 binds the size only through the
        # root): the checkpoint refuses it then.
        ("tree_size", lambda size: size + 1, ("bad_proof", "size_mismatch")),
    ],
)
def test_an_altered_inclusion_proof_is_refused(
    logged: dict[str, Any], tmp_path: Path, member: str, change: Any, reasons: str | tuple[str, ...]
) -> None:
    proof = dict(logged["inclusion"])
    proof[member] = change(proof[member])
    checkpoint = ["--checkpoint", str(logged["new"]), "--key", logged["key"]]
    code, said = check(proof, tmp_path, *checkpoint)
    refused = [f"REFUSED: {r}: " for r in ((reasons,) if isinstance(reasons, str) else reasons)]
    assert code == 1 and said.startswith(tuple(refused)), said
    assert said.count("\n") == 1


@pytest.mark.parametrize(
    ("member", "change"),
    [
        ("from_root", flipped),
        ("to_root", flipped),
        ("proof", lambda hashes: [flipped(hashes[0]), *hashes[1:]]),
        ("from_size", lambda size: size - 1),
    ],
)
def test_an_altered_consistency_proof_is_refused(
    logged: dict[str, Any], tmp_path: Path, member: str, change: Any
) -> None:
    proof = dict(logged["consistency"])
    proof[member] = change(proof[member])
    code, said = check(proof, tmp_path)
    assert code == 1 and said.startswith("REFUSED: bad_proof: its hashes do not lead "), said


def test_a_checkpoint_of_another_tree_or_signed_by_another_key_is_refused(
    logged: dict[str, Any], tmp_path: Path
) -> None:
    proof, (old_size, new_size) = logged["inclusion"], logged["sizes"]
    code, said = check(proof, tmp_path, "--checkpoint", str(logged["old"]), "--key", logged["key"])
    assert (code, said) == (
        1,
        f"REFUSED: size_mismatch: the checkpoint in {logged['old']} is of {old_size} events, the "
        f"proof of {new_size}: ask for the proof at that size (`audit prove POSITION --size "
        f"{old_size}`, `audit consistency OLD {old_size}`)\n",
    )
    forged = tmp_path / "forged-checkpoint.txt"
    note = logged["new"].read_text()
    forged.write_text(note.replace(f"\n{new_size}\n", f"\n{new_size + 1}\n", 1))
    code, said = check(proof, tmp_path, "--checkpoint", str(forged), "--key", logged["key"])
    assert code == 1 and said.startswith("REFUSED: bad_signature: "), said


def test_a_proof_from_stdin_on_a_machine_without_a_city_creates_nothing(
    logged: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "auditor"
    empty.mkdir()
    monkeypatch.chdir(empty)
    text = json.dumps(logged["consistency"])
    code, said = mycity(["audit", "check-proof", "-"], NO_CITY, stdin=text)
    assert code == 0 and said.startswith("ok: "), said
    assert list(empty.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json", "not JSON"),
        ("[]", "not a JSON object"),
        ('{"from_size": 1}', "no to_size"),
        ('{"position": 1, "leaf_index": -1}', "leaf_index is not a whole number"),
        ("{}", "neither an inclusion proof"),
    ],
)
def test_what_is_not_a_proof_is_one_line(text: str, says: str) -> None:
    code, output = mycity(["audit", "check-proof", "-"], stdin=text)
    assert code == 2 and says in one_line(output), output


def test_a_checkpoint_needs_its_key_and_a_key_a_checkpoint(
    logged: dict[str, Any], tmp_path: Path
) -> None:
    proof = logged["inclusion"]
    unnamed = {k: v for k, v in proof.items() if k != "checkpoint"}
    code, output = check(unnamed, tmp_path, "--key", logged["key"])
    assert code == 2 and "add --checkpoint" in one_line(output), output
    for args, says in (
        (["--checkpoint", str(logged["new"])], "add --key"),
        (["--checkpoint", str(logged["new"]), "--key", "x+1+A"], "is not a checkpoint key"),
    ):
        code, output = check(proof, tmp_path, *args)
        assert code == 2 and says in one_line(output), output


def test_with_a_key_alone_the_checkpoints_the_proof_names_are_checked(
    logged: dict[str, Any], tmp_path: Path
) -> None:
    inclusion, consistency, key = logged["inclusion"], logged["consistency"], logged["key"]
    assert inclusion["checkpoint"] == logged["new"].read_text()
    assert consistency["from_checkpoint"] == logged["old"].read_text()
    code, said = check(inclusion, tmp_path, "--key", key)
    assert code == 0 and said.endswith("as signed in the proof's checkpoint\n"), said
    code, said = check(consistency, tmp_path, "--key", key)
    assert code == 0, said
    assert said.endswith("as signed in the proof's checkpoint and the proof's from_checkpoint\n")
    swapped = inclusion | {"checkpoint": logged["old"].read_text()}  # another size's
    assert check(swapped, tmp_path, "--key", key)[1].startswith("REFUSED: size_mismatch: ")
    forged = inclusion | {"checkpoint": logged["new"].read_text().replace("\n— ", "\n— x")}
    assert check(forged, tmp_path, "--key", key)[1].startswith("REFUSED: bad_signature: ")


def test_a_consistency_proof_must_name_the_checkpoint_of_its_newer_tree(
    logged: dict[str, Any], tmp_path: Path
) -> None:
    """An altered proof to a made-up newer tree, naming only the real older checkpoint, is
    refused: its `checkpoint` must be of `to_size`, its `from_checkpoint` of `from_size`."""
    proof, key, old = logged["consistency"], logged["key"], logged["old"].read_text()
    older_only = {k: v for k, v in proof.items() if k != "from_checkpoint"} | {"checkpoint": old}
    assert check(older_only, tmp_path, "--key", key)[1].startswith("REFUSED: size_mismatch: ")
    swapped = proof | {"from_checkpoint": proof["checkpoint"]}
    assert check(swapped, tmp_path, "--key", key)[1].startswith("REFUSED: size_mismatch: ")
    unnamed = {k: v for k, v in proof.items() if k != "checkpoint"}
    code, output = check(unnamed, tmp_path, "--key", key)
    assert code == 2 and "add --checkpoint" in one_line(output), output
