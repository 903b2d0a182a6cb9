"""Tamper evidence: signed checkpoints of the log's Merkle tree, proofs against them, and
checking the stored log against the tree and against checkpoints kept elsewhere.

A checkpoint is a C2SP tlog-checkpoint, signed as a C2SP signed note by the checkpoint key
(named after the log's origin), so that Go's `sumdb/note` and off-the-shelf witnesses
check it without our code; `docs/audit.md` gives the formats.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from jwt.utils import base64url_decode

from mycity.domain.errors import ErrorCode, UserError
from mycity.identity.keys import SigningKeyRing
from mycity.identity.principal import Principal
from mycity.policy import audit as policy
from mycity.projections.log_check import LogCheck, check_log
from mycity.projections.merkle import MerkleTree, record_of
from mycity.settings import AuditSettings
from mycity.store.checkpoints import Checkpoints
from mycity.store.checkpoints import SignedCheckpoint as SignedCheckpoint  # what it answers
from mycity.store.files import CityFiles
from mycity.usecases.witnessing import Witnessing
from mycity.verifier.checkpoint import Checkpoint, signed_at, time_line, verify_checkpoint
from mycity.verifier.note import Verifier, parse_verifier_key, sign_note, verifier_key


@dataclass(frozen=True)
class InclusionProof:
    position: int
    leaf_index: int
    tree_size: int
    record: bytes  # the stored record's leaf data: its leaf hash is leaf_hash(record)
    proof: list[bytes]
    root: bytes
    checkpoint: str  # the signed checkpoint of `tree_size` leaves, the note's text

    def document(self) -> dict[str, object]:
        """As docs/audit.md §3 lays it out (what `audit prove` prints)."""
        return {
            "position": self.position,
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "record": _b64(self.record),
            "proof": [_b64(h) for h in self.proof],
            "root": _b64(self.root),
            "checkpoint": self.checkpoint,
        }


@dataclass(frozen=True)
class ConsistencyProof:
    from_size: int
    to_size: int
    from_root: bytes  # the roots the proof leads to: check them against signed checkpoints
    to_root: bytes
    proof: list[bytes]
    checkpoint: str  # the signed checkpoint of `to_size` leaves
    from_checkpoint: str | None  # that of `from_size`, if one was signed (none of size 0)

    def document(self) -> dict[str, object]:
        """As docs/audit.md §3 lays it out (what `audit consistency` prints and
        `GET /audit/consistency` answers)."""
        return {
            "from_size": self.from_size,
            "to_size": self.to_size,
            "from_root": _b64(self.from_root),
            "to_root": _b64(self.to_root),
            "proof": [_b64(h) for h in self.proof],
            "checkpoint": self.checkpoint,
            "from_checkpoint": self.from_checkpoint,
        }


class Audit:
    def __init__(
        self,
        files: CityFiles,
        tree: MerkleTree,
        checkpoints: Checkpoints,
        ring: SigningKeyRing,
        settings: AuditSettings,
    ) -> None:
        self.files = files
        self.tree = tree
        self.checkpoints = checkpoints
        self.ring = ring
        self.settings = settings
        self.witnessing = (
            Witnessing(settings.witnesses, tree, checkpoints) if settings.witnesses else None
        )
        self._next_due = 0.0  # monotonic: when `sign_if_due` looks again

    # -- checkpoints ------------------------------------------------------------------------

    def sign_checkpoint(self, actor: Principal | None = None) -> SignedCheckpoint:
        """Bring the tree up to the log's head and sign it now (for an auditor or an admin
        on demand; `actor` None: the runner or the CLI, on the store's own authority)."""
        if actor is not None:
            policy.require_auditor(actor)
        self.tree.run_once()
        size = self.tree.size()
        kept = self.checkpoints.of_size(size) or self._signed_now(size)
        return self.witnessing.cosign(kept) if self.witnessing else kept

    def _signed_now(self, size: int) -> SignedCheckpoint:
        root = self.tree.root(size)
        now = datetime.now(UTC).replace(microsecond=0)
        body = Checkpoint(self.settings.origin, size, root, (time_line(now),))
        note = sign_note(body.text(), self.settings.origin, self.ring.private_key())
        return self.checkpoints.add(SignedCheckpoint(size, root, now, note))

    def sign_if_due(self) -> int:
        """The runner's follower: a checkpoint every `checkpoint_seconds` while the log
        grows (run after the tree's own follower); 1 if it signed one."""
        interval = self.settings.checkpoint_seconds
        if not interval or time.monotonic() < self._next_due:
            return 0
        latest = self.checkpoints.latest()
        if latest is not None:
            age = (datetime.now(UTC) - latest.signed_at).total_seconds()
            if age < interval:
                self._next_due = time.monotonic() + interval - age
                return 0
            if latest.size >= self.tree.size():
                return 0
        self.sign_checkpoint()
        self._next_due = time.monotonic() + interval
        return 1

    def verifier_keys(self) -> list[str]:
        """The checkpoint keys as Go's `note.NewVerifier` takes them, the active one first."""
        jwks = sorted(self.ring.keys, key=lambda k: k["kid"] != self.ring.active_kid)
        return [verifier_key(self.settings.origin, base64url_decode(k["x"])) for k in jwks]

    def verifiers(self) -> list[Verifier]:
        return [parse_verifier_key(key) for key in self.verifier_keys()]

    def open_checkpoint(self, note: str) -> Checkpoint:
        """A checkpoint of this log, signed by one of its keys with its `time` line, or
        INVALID_ARGUMENT."""
        for verifier in self.verifiers():
            found = verify_checkpoint(note, verifier, self.settings.origin)
            if found is not None and signed_at(found) is not None:
                return found
        raise UserError(
            ErrorCode.INVALID_ARGUMENT,
            f"Not a checkpoint of {self.settings.origin} signed by one of its keys, "
            "with its time line",
            "checkpoint",
        )

    # -- checking the log -------------------------------------------------------------------

    def verify(
        self, against: str | None = None, progress: Callable[[int, int], None] | None = None
    ) -> LogCheck:
        """Recompute the tree from the stored events; compare it with the stored tree, and
        with a checkpoint: the one given (an exported note), or else the latest kept."""
        if against is not None:
            checkpoint = self.open_checkpoint(against)
            expected = (checkpoint.size, checkpoint.root)
        elif (latest := self.checkpoints.latest()) is not None:
            expected = (latest.size, self.open_checkpoint(latest.note).root)
        else:
            expected = None
        return check_log(self.files, self.tree, expected=expected, progress=progress)

    # -- proofs -----------------------------------------------------------------------------

    def inclusion(
        self, actor: Principal | None, position: int, tree_size: int | None = None
    ) -> InclusionProof:
        """That the event at `position` is in the tree of `tree_size` leaves (a signed
        checkpoint's size; by default the latest's)."""
        if actor is not None:
            policy.require_auditor(actor)
        index = self.tree.leaf_index(position)
        if index is None and 0 < position <= self.files.head():
            self.tree.run_once()  # recorded, not yet in the tree
            index = self.tree.leaf_index(position)
        if index is None:
            raise UserError(ErrorCode.NOT_FOUND, "No event has this position", "position")
        signed = self._signed(tree_size, "treeSize")
        size = signed.size
        if index >= size:
            raise UserError(
                ErrorCode.TREE_TOO_SMALL,
                f"The event is leaf {index}: a tree of {size} leaves does not hold it yet",
                "treeSize",
            )
        [record] = self.files.recorder.select_notifications(start=position, limit=1)
        return InclusionProof(
            position=position,
            leaf_index=index,
            tree_size=size,
            record=record_of(record),
            proof=self.tree.inclusion_proof(index, size),
            root=self.tree.root(size),
            checkpoint=signed.note,
        )

    def consistency(
        self, actor: Principal | None, size1: int, size2: int | None = None
    ) -> ConsistencyProof:
        """That the tree of `size2` leaves (a signed checkpoint's size; by default the
        latest's) only appended to the tree of `size1`: both sizes and roots, the proof."""
        if actor is not None:
            policy.require_auditor(actor)
        signed = self._signed(size2, "toSize")
        size = signed.size
        if not 0 <= size1 <= size:
            raise UserError(
                ErrorCode.TREE_TOO_SMALL, f"Sizes are 0 to {size}, the second one", "fromSize"
            )
        return ConsistencyProof(
            from_size=size1,
            to_size=size,
            from_root=self.tree.root(size1),
            to_root=self.tree.root(size),
            proof=self.tree.consistency_proof(size1, size),
            checkpoint=signed.note,
            from_checkpoint=older.note if (older := self.checkpoints.of_size(size1)) else None,
        )

    def _signed(self, tree_size: int | None, field: str) -> SignedCheckpoint:
        """The signed checkpoint a proof is against: of `tree_size` leaves, by default the
        latest. A proof against a size nobody signed would lead to a root nobody vouches
        for: it is refused."""
        if tree_size is None:
            latest = self.checkpoints.latest()
            if latest is None:
                raise UserError(
                    ErrorCode.UNSIGNED_SIZE,
                    "No checkpoint is signed yet: sign one (signCheckpoint) and ask again",
                    field,
                )
            return latest
        if not 0 < tree_size <= self.tree.size():
            raise UserError(
                ErrorCode.TREE_TOO_SMALL,
                f"The tree has {self.tree.size()} leaves; ask for a size up to that",
                field,
            )
        signed = self.checkpoints.of_size(tree_size)
        if signed is None:
            raise UserError(
                ErrorCode.UNSIGNED_SIZE,
                f"No checkpoint of {tree_size} leaves was signed: ask against a signed "
                "size (auditCheckpoints lists them)",
                field,
            )
        return signed


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
