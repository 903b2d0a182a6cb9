"""docs/audit.md's worked example, recomputed with the verifier alone: five stored events,
their Merkle tree, two signed checkpoints, and the proofs the CLI and the API give against
them, checked as the document tells a verifier to check them."""

from __future__ import annotations

import base64
import json
import re
import struct
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mycity.verifier.checkpoint import (
    Checkpoint,
    signed_at,
    time_line,
    verify_checkpoint,
)
from mycity.verifier.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from mycity.verifier.note import parse_verifier_key, sign_note, verifier_key
from mycity.verifier.records import TAG, leaf_data

DOC = (Path(__file__).parent.parent / "docs" / "audit.md").read_text()
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
ORIGIN = "mycity.example/log"
STREAM = UUID("11111111-2222-4333-8444-555555555555")
REGISTERED = "mycity.domain.citizen:Citizen.Registered"
CHANGED = "mycity.domain.citizen:Citizen.ContactChanged"
POSITIONS = [1, 2, 4, 5, 6]  # 3 was rolled back: no event has it
STATES = {
    position: bytes([position]) * 8 for position in POSITIONS
}  # made up: real ones are sealed
RECORDS = [
    leaf_data(position, STREAM, version, REGISTERED if version == 1 else CHANGED, STATES[position])
    for version, position in enumerate(POSITIONS, 1)
]
LEAVES = [leaf_hash(record) for record in RECORDS]
SIGNED = {3: datetime(2026, 1, 1, 0, 0, tzinfo=UTC), 5: datetime(2026, 1, 1, 0, 10, tzinfo=UTC)}
ASKED = 4  # the position whose inclusion is proved: leaf 2


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def note(size: int) -> str:
    body = Checkpoint(ORIGIN, size, root_hash(LEAVES[:size]), (time_line(SIGNED[size]),))
    return sign_note(body.text(), ORIGIN, KEY)


def fields_in_hex(record: bytes) -> str:
    """The leaf data, one field a line, as the document lays it out."""
    topic_size = struct.unpack_from(">I", record, 50)[0]
    cuts = [0, 18, 26, 42, 50, 54, 54 + topic_size, 58 + topic_size, len(record)]
    return "\n".join(record[a:b].hex() for a, b in pairwise(cuts))


def cli_json(value: dict[str, Any]) -> str:
    """As `mycity audit prove` and `mycity audit consistency` print their answers."""
    return json.dumps(value, ensure_ascii=False, indent=2)


def worked_example() -> dict[str, str]:
    index = POSITIONS.index(ASKED)
    record, path, root = RECORDS[index], inclusion_proof(LEAVES[:5], index), root_hash(LEAVES)
    consistency = consistency_proof(LEAVES, 3)
    public = KEY.public_key().public_bytes_raw()
    return {
        "seed": bytes(range(1, 33)).hex(),
        "verifier key": verifier_key(ORIGIN, public),
        "leaf data": fields_in_hex(record),
        "leaf hash": LEAVES[index].hex(),
        "checkpoint 3": note(3),
        "checkpoint 5": note(5),
        "prove": cli_json(
            {
                "position": ASKED,
                "leaf_index": index,
                "tree_size": 5,
                "record": b64(record),
                "proof": [b64(h) for h in path],
                "root": b64(root),
                "checkpoint": note(5),
            }
        ),
        "consistency": cli_json(
            {
                "from_size": 3,
                "to_size": 5,
                "from_root": b64(root_hash(LEAVES[:3])),
                "to_root": b64(root),
                "proof": [b64(h) for h in consistency],
                "checkpoint": note(5),
                "from_checkpoint": note(3),
            }
        ),
        "graphql inclusion": json.dumps(
            {
                "auditInclusionProof": {
                    "position": ASKED,
                    "leafIndex": index,
                    "treeSize": 5,
                    "record": b64(record),
                    "proof": [b64(h) for h in path],
                    "root": b64(root),
                    "checkpoint": note(5),
                }
            },
            indent=2,
        ),
        "graphql consistency": json.dumps(
            {
                "auditConsistencyProof": {
                    "fromSize": 3,
                    "toSize": 5,
                    "fromRoot": b64(root_hash(LEAVES[:3])),
                    "toRoot": b64(root),
                    "proof": [b64(h) for h in consistency],
                    "checkpoint": note(5),
                    "fromCheckpoint": note(3),
                }
            },
            indent=2,
        ),
    }


def test_the_documents_worked_example_still_holds() -> None:
    for name, value in worked_example().items():
        assert value in DOC, name


def doc_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, re.S)


def doc_json(first_key: str) -> dict[str, Any]:
    [found] = [json.loads(b) for b in doc_blocks("json") if b.lstrip("{ \n").startswith(first_key)]
    value: dict[str, Any] = found
    return value


def check_inclusion(proof: dict[str, Any], position: int, note: str, key: str) -> bool:
    """A verifier's steps, as docs/audit.md §3 lists them, on the CLI's proof JSON."""
    checkpoint = verify_checkpoint(note, parse_verifier_key(key), ORIGIN)
    if checkpoint is None or signed_at(checkpoint) is None:
        return False
    root, record = base64.b64decode(proof["root"]), base64.b64decode(proof["record"])
    if (proof["tree_size"], root) != (checkpoint.size, checkpoint.root):
        return False
    if not (record.startswith(TAG) and int.from_bytes(record[18:26], "big") == position):
        return False  # a proof of another event's inclusion
    hashes = [base64.b64decode(h) for h in proof["proof"]]
    return verify_inclusion(leaf_hash(record), proof["leaf_index"], checkpoint.size, hashes, root)


def test_the_documents_proofs_verify_as_it_says() -> None:
    [key] = [line for line in DOC.splitlines() if line.startswith(f"{ORIGIN}+")]
    notes = {int(n.split("\n")[1]): n for n in doc_blocks("text") if n.startswith(f"{ORIGIN}\n")}
    assert sorted(notes) == [3, 5]
    proof = doc_json('"position"')
    assert check_inclusion(proof, ASKED, notes[5], key)
    assert not check_inclusion(proof, ASKED + 1, notes[5], key)  # the record binds the position
    assert not check_inclusion(proof, ASKED, notes[3], key)  # a checkpoint of another size
    other = {**proof, "record": b64(RECORDS[3])}  # another event's record, same leaf index
    assert not check_inclusion(other, 5, notes[5], key)
    old, new = (verify_checkpoint(notes[n], parse_verifier_key(key), ORIGIN) for n in (3, 5))
    assert old is not None and new is not None
    assert (signed_at(old), signed_at(new)) == (SIGNED[3], SIGNED[5])
    consistency = doc_json('"from_size"')
    hashes = [base64.b64decode(h) for h in consistency["proof"]]
    assert (consistency["from_size"], consistency["to_size"]) == (old.size, new.size)
    assert verify_consistency(old.size, new.size, hashes, old.root, new.root)
