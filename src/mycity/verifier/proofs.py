"""The log's proofs as `mycity audit prove` and `mycity audit consistency` print them (and
GraphQL's `auditInclusionProof` and `auditConsistencyProof` answer them, in camelCase),
read and checked offline. Standard library only; docs/audit.md §3 gives the JSON.

An inclusion proof shows that a record (an event as stored) is the leaf at its index in the
tree of `tree_size` leaves with `root`; a consistency proof, that the tree of `to_size`
leaves with `to_root` only appended to the tree of `from_size` with `from_root`. Neither
shows that a root is the log's: `check_against` holds it to a checkpoint the log signed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mycity.verifier.checkpoint import Checkpoint, verify_checkpoint
from mycity.verifier.merkle import leaf_hash, verify_consistency, verify_inclusion
from mycity.verifier.note import Verifier, decode_base64
from mycity.verifier.records import record_position

_HASH_SIZE = 32
_MAX_SIZE = 2**64 - 1
_MAX_TEXT = 1 << 20  # far more than any proof of a 64-bit tree with its record
_CAPITAL = re.compile(r"[A-Z]")


class Reason(StrEnum):
    """Why a proof was refused, in the order the checks run; VALID when none failed."""

    VALID = "valid"
    BAD_PROOF = "bad_proof"  # its hashes do not lead to its root (or from one root to the other)
    WRONG_POSITION = "wrong_position"  # the record proven is the event at another position
    BAD_SIGNATURE = "bad_signature"  # the checkpoint is not signed by a key given, for its log
    SIZE_MISMATCH = "size_mismatch"  # the checkpoint is of a tree the proof is not about
    ROOT_MISMATCH = "root_mismatch"  # the checkpoint has another root for the proof's size


@dataclass(frozen=True)
class InclusionProof:
    position: int  # the event's place in the log, which `record` names too
    leaf_index: int
    tree_size: int
    record: bytes  # the leaf's data (records.leaf_data): its hash is the leaf's
    proof: tuple[bytes, ...]
    root: bytes
    checkpoint: str | None = None  # the signed checkpoint of `tree_size` it names, if any

    def named(self) -> list[tuple[str, str, int]]:
        """The checkpoints it names: (member, note, the tree size it must be of)."""
        return [("checkpoint", self.checkpoint, self.tree_size)] if self.checkpoint else []


@dataclass(frozen=True)
class ConsistencyProof:
    from_size: int
    to_size: int
    from_root: bytes
    to_root: bytes
    proof: tuple[bytes, ...]
    checkpoint: str | None = None  # the signed checkpoint of `to_size` it names, if any
    from_checkpoint: str | None = None  # and of `from_size`

    def named(self) -> list[tuple[str, str, int]]:
        """The checkpoints it names: (member, note, the tree size it must be of)."""
        ends = [("checkpoint", self.checkpoint, self.to_size)]
        ends.append(("from_checkpoint", self.from_checkpoint, self.from_size))
        return [(member, note, size) for member, note, size in ends if note]


Proof = InclusionProof | ConsistencyProof


def read_proof(text: str) -> Proof:
    """The proof a JSON text holds; ValueError says what is wrong with it."""
    if len(text) > _MAX_TEXT:
        raise ValueError("longer than any proof")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON ({e.msg}, line {e.lineno})") from None
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    members = {_CAPITAL.sub(lambda m: "_" + m.group().lower(), k): v for k, v in document.items()}
    if "record" in members or "leaf_index" in members:
        return InclusionProof(
            position=_size(members, "position"),
            leaf_index=_size(members, "leaf_index"),
            tree_size=_size(members, "tree_size"),
            record=_base64(members, "record", None),
            proof=_hashes(members),
            root=_base64(members, "root", _HASH_SIZE),
            checkpoint=_note(members, "checkpoint"),
        )
    if "from_size" in members:
        return ConsistencyProof(
            from_size=_size(members, "from_size"),
            to_size=_size(members, "to_size"),
            from_root=_base64(members, "from_root", _HASH_SIZE),
            to_root=_base64(members, "to_root", _HASH_SIZE),
            proof=_hashes(members),
            checkpoint=_note(members, "checkpoint"),
            from_checkpoint=_note(members, "from_checkpoint"),
        )
    raise ValueError("neither an inclusion proof (record, leaf_index, …) nor a consistency proof")


def _note(members: dict[str, Any], name: str) -> str | None:
    """A checkpoint note the proof names (absent or null: none), as text."""
    note = members.get(name)
    if note is not None and not isinstance(note, str):
        raise ValueError(f"{name} is not a checkpoint's text")
    return note


def check_proof(proof: Proof) -> Reason:
    """Whether the proof's hashes hold: VALID, BAD_PROOF or WRONG_POSITION."""
    if isinstance(proof, ConsistencyProof):
        holds = verify_consistency(
            proof.from_size, proof.to_size, proof.proof, proof.from_root, proof.to_root
        )
        return Reason.VALID if holds else Reason.BAD_PROOF
    leaf = leaf_hash(proof.record)
    if not verify_inclusion(leaf, proof.leaf_index, proof.tree_size, proof.proof, proof.root):
        return Reason.BAD_PROOF
    if record_position(proof.record) != proof.position:
        return Reason.WRONG_POSITION
    return Reason.VALID


def signed_checkpoint(note: str, verifiers: Sequence[Verifier]) -> Checkpoint | None:
    """The checkpoint in `note` if one of `verifiers` signed it for the log it names (a
    checkpoint key is named after its log); None otherwise (BAD_SIGNATURE)."""
    for verifier in verifiers:
        if (checkpoint := verify_checkpoint(note, verifier, verifier.name)) is not None:
            return checkpoint
    return None


def check_against(proof: Proof, checkpoint: Checkpoint) -> Reason:
    """Whether the checkpoint is of a tree the proof is about (an inclusion proof's tree;
    either of a consistency proof's), with the same root: VALID, SIZE_MISMATCH or
    ROOT_MISMATCH. Check its signature first (`signed_checkpoint`)."""
    if isinstance(proof, InclusionProof):
        trees = [(proof.tree_size, proof.root)]
    else:
        trees = [(proof.from_size, proof.from_root), (proof.to_size, proof.to_root)]
    for size, root in trees:
        if size == checkpoint.size:
            return Reason.VALID if root == checkpoint.root else Reason.ROOT_MISMATCH
    return Reason.SIZE_MISMATCH


def _member(members: dict[str, Any], name: str) -> Any:
    if name not in members:
        raise ValueError(f"no {name}")
    return members[name]


def _size(members: dict[str, Any], name: str) -> int:
    value = _member(members, name)
    if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_SIZE):
        raise ValueError(f"{name} is not a whole number from 0 to 2^64 - 1")
    return value


def _base64(members: dict[str, Any], name: str, size: int | None) -> bytes:
    return _decoded(_member(members, name), name, size)


def _hashes(members: dict[str, Any]) -> tuple[bytes, ...]:
    hashes = _member(members, "proof")
    if not isinstance(hashes, list):
        raise ValueError("proof is not a list of hashes")
    return tuple(_decoded(h, "a hash of proof", _HASH_SIZE) for h in hashes)


def _decoded(value: Any, name: str, size: int | None) -> bytes:
    decoded = decode_base64(value)
    if decoded is None:
        raise ValueError(f"{name} is not standard base64")
    if size is not None and len(decoded) != size:
        raise ValueError(f"{name} is not a {size}-byte hash")
    return decoded
