"""Asking a witness to cosign a checkpoint (c2sp.org/tlog-witness), over HTTP: the
city's side of `integrations/witness.py`, or of any witness speaking the protocol."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from dataclasses import dataclass

TIMEOUT_S = 5.0
MAX_ANSWER = 64 * 1024  # far more than a few cosignature lines


def add_checkpoint_body(old: int, proof: list[bytes], note: str) -> str:
    """`old <size>`, the proof a base64 hash a line, a blank line, the signed checkpoint."""
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
    return "".join(f"{line}\n" for line in lines) + "\n" + note


class WitnessRefused(Exception):
    """The witness answered, but not with a cosignature: its status and what it said."""

    def __init__(self, status: int, said: str) -> None:
        super().__init__(f"{status}: {said.strip()}")
        self.status = status
        self.said = said


@dataclass(frozen=True)
class WitnessClient:
    address: str

    def add_checkpoint(self, old: int, proof: list[bytes], note: str) -> str:
        """The witness's cosignature lines for the note, given the proof from `old`, the
        size it last cosigned; `WitnessRefused` (409: `said` is its size) or OSError."""
        body = add_checkpoint_body(old, proof, note)
        request = urllib.request.Request(  # noqa: S310  (an address the operator configured)
            f"{self.address}/add-checkpoint", data=body.encode(), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310
                return str(answer.read(MAX_ANSWER).decode("utf-8", "replace"))
        except urllib.error.HTTPError as e:
            raise WitnessRefused(e.code, e.read(MAX_ANSWER).decode("utf-8", "replace")) from None
