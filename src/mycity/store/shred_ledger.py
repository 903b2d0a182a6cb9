"""The shred ledger: every person whose data key was shredded, kept apart from the store.

A backup of the store taken before an erasure still holds that person's wrapped key, so
restoring it would bring their data back. The ledger is what a restore cannot roll back: an
append-only file beside the store (its own path, `MYCITY_SHRED_LEDGER`; on shared storage
when several machines serve one PostgreSQL), written before the key is shredded, copied
into every backup, and re-applied by every restore. One JSON line a shredding:
`{"subject": "<uuid>", "shredded_at": <unix seconds>}`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID


class ShredLedger:
    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, subject: UUID, at: float) -> None:
        """Append the shredding and wait until it is on disk: a line is written whole (one
        `write` of an O_APPEND file), so several processes may append at once."""
        line = json.dumps({"subject": str(subject), "shredded_at": at}) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(descriptor).st_size
            if size and os.pread(descriptor, 1, size - 1) != b"\n":
                line = "\n" + line  # after a line a crash tore: it stays apart, unread
            os.write(descriptor, line.encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def subjects(self) -> Iterator[UUID]:
        """Everyone shredded, in the order recorded (a torn last line, from a crash mid-write,
        is left out: its key was not shredded yet)."""
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    yield UUID(json.loads(line)["subject"])
                except (ValueError, KeyError, TypeError):
                    continue

    def merge(self, other: ShredLedger) -> int:
        """Add the shreddings `other` has and this one lacks (a backup's, into the live
        ledger, which a restore never replaces); how many were added."""
        known = set(self.subjects())
        added = 0
        with other.path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    entry = json.loads(line)
                    subject = UUID(entry["subject"])
                except (ValueError, KeyError, TypeError):
                    continue
                if subject not in known:
                    self.record(subject, float(entry.get("shredded_at", 0.0)))
                    known.add(subject)
                    added += 1
        return added
