"""C2SP tlog checkpoints (c2sp.org/tlog-checkpoint): the log's signed tree heads.

A checkpoint names the log (its origin), its size and its Merkle root. Signed as a note, it
is the root that inclusion and consistency proofs are checked against. The city's log adds
one extension line, `time …`, saying when it signed; `signed_at` reads it.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from mycity.verifier.note import Verifier, decode_base64, open_note

_MAX_SIZE = 2**64 - 1  # Go parses the size as a uint64
_ROOT_SIZE = 32
_DECIMAL_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_CONTROL = re.compile(r"[\x00-\x1f]")
_TIME_LINE = re.compile(r"time ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})Z")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head; building one checks that it can be written as a checkpoint."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _is_line(self.origin):
            raise ValueError("the origin must be a non-empty line without control characters")
        if not (isinstance(self.size, int) and not isinstance(self.size, bool)):
            raise ValueError("the size must be an int")
        if not 0 <= self.size <= _MAX_SIZE:
            raise ValueError("the size must fit in 64 bits")
        if not (isinstance(self.root, bytes) and len(self.root) == _ROOT_SIZE):
            raise ValueError("the root must be a 32-byte hash")
        if not (isinstance(self.extensions, tuple) and all(map(_is_line, self.extensions))):
            raise ValueError("extensions must be non-empty lines without control characters")

    def text(self) -> str:
        """The note body: origin, size, base64 root, then one line per extension."""
        root = base64.b64encode(self.root).decode("ascii")
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions)
        )


def parse_checkpoint(text: str) -> Checkpoint | None:
    """The checkpoint a note body holds, or None unless it is exactly in the C2SP form."""
    if not (isinstance(text, str) and text.endswith("\n")):
        return None
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not _DECIMAL_SIZE.fullmatch(lines[1]):
        return None
    root = decode_base64(lines[2])
    if root is None:
        return None
    try:
        return Checkpoint(lines[0], int(lines[1]), root, tuple(lines[3:]))
    except ValueError:
        return None


def verify_checkpoint(
    note: str, verifier: Verifier, origin: str | None = None
) -> Checkpoint | None:
    """The checkpoint in `note` if `verifier` signed it and it is `origin`'s; else None.

    Never raises. Pass `origin` whenever it is known: a key may sign for several logs.
    """
    text = open_note(note, [verifier])
    checkpoint = None if text is None else parse_checkpoint(text)
    if checkpoint is None or (origin is not None and checkpoint.origin != origin):
        return None
    return checkpoint


def time_line(moment: datetime) -> str:
    """The extension line of the city's checkpoints: `time`, a space, and the UTC moment
    to the second, e.g. `time 2026-12-01T16:34:23Z`."""
    second = moment.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return f"time {second.isoformat()}Z"


def signed_at(checkpoint: Checkpoint) -> datetime | None:
    """When the city's log signed `checkpoint`: its one extension line, as `time_line`
    writes it; None unless that is its only extension and a real moment."""
    found = [_TIME_LINE.fullmatch(line) for line in checkpoint.extensions]
    if len(found) != 1 or found[0] is None:
        return None
    try:
        return datetime.fromisoformat(found[0].group(1)).replace(tzinfo=UTC)
    except ValueError:  # e.g. 2026-02-30 or 24:00:00
        return None


def _is_line(value: object) -> bool:
    return isinstance(value, str) and value != "" and not _CONTROL.search(value)
