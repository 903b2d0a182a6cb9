"""The city's side of witnessing: each new checkpoint is sent to the witnesses it is
configured with, each with the consistency proof from the size that witness last cosigned,
and the cosignatures that verify are appended to the checkpoint's note, which is then what
`/audit/checkpoint` serves. A witness that is down, or refuses, costs the checkpoint its
cosignature, never the checkpoint: it is logged, and asked again next time."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from mycity.integrations.witnesses import WitnessClient, WitnessRefused
from mycity.projections.merkle import MerkleTree
from mycity.store.checkpoints import Checkpoints, SignedCheckpoint
from mycity.verifier.cosignature import Cosigner, cosigned_by, parse_cosigner_key

log = logging.getLogger(__name__)


class Witnessing:
    def __init__(
        self,
        witnesses: Sequence[tuple[str, str]],
        tree: MerkleTree,
        checkpoints: Checkpoints,
    ) -> None:
        self.witnesses = [(WitnessClient(a), parse_cosigner_key(k)) for a, k in witnesses]
        self.tree = tree
        self.checkpoints = checkpoints

    def cosign(self, kept: SignedCheckpoint) -> SignedCheckpoint:
        """The checkpoint with the cosignatures of every witness that gave one (those it
        carries already are not asked again). A witness that misbehaves in any way costs
        only its own cosignature."""
        added = False
        for client, cosigner in self.witnesses:
            if cosigned_by(kept.note, [cosigner]):
                continue
            try:
                line = self._ask(client, cosigner, kept)
            except Exception:  # a broken answer of one witness must not fail the checkpoint
                log.exception("witness %s failed on checkpoint %d", cosigner.name, kept.size)
                continue
            if line:
                self.checkpoints.cosigned(kept.size, line)
                added = True
        return (self.checkpoints.of_size(kept.size) if added else None) or kept

    def _ask(self, client: WitnessClient, cosigner: Cosigner, kept: SignedCheckpoint) -> str:
        old = self.checkpoints.witnessed(cosigner.name)
        for _ in range(2):  # a witness that cosigned elsewhere says its size: once more from it
            if old > kept.size:
                log.warning("witness %s has cosigned %d, past %d", cosigner.name, old, kept.size)
                return ""
            proof = self.tree.consistency_proof(old, kept.size) if old > 0 else []
            try:
                answer = client.add_checkpoint(old, proof, kept.note)
            except WitnessRefused as e:
                if e.status == 409 and e.said.strip().isdigit() and int(e.said) != old:
                    old = int(e.said)
                    continue
                log.warning("witness %s refused checkpoint %d: %s", cosigner.name, kept.size, e)
                return ""
            except OSError as e:
                log.warning("witness %s is out of reach: %s", cosigner.name, e)
                return ""
            lines = (f"{line}\n" for line in answer.splitlines())
            mine = next((line for line in lines if cosigned_by(kept.note + line, [cosigner])), "")
            if not mine:
                log.warning("witness %s answered no cosignature that verifies", cosigner.name)
                return ""
            self.checkpoints.witnessed_at(cosigner.name, kept.size)
            return mine
        return ""
