"""The log's signed checkpoints, as signed: each one's size, root, time and exact note.

Kept beside the log so that auditors can list and fetch them, and proofs be asked against
them; the protection is that auditors keep copies off the system (`mycity audit
checkpoint --export`), which any later checkpoint must be consistent with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from mycity.store.sql import Database


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    root: bytes
    signed_at: datetime
    note: str  # the signed note's exact text (C2SP tlog-checkpoint)


class Checkpoints:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.table("checkpoints")

    def create_tables(self) -> None:
        blob = "BYTEA" if self.db.dialect == "postgres" else "BLOB"
        self.db.create_tables(
            [
                f"CREATE TABLE IF NOT EXISTS {self.table} (size BIGINT PRIMARY KEY, "
                f"root {blob} NOT NULL, signed_at DOUBLE PRECISION NOT NULL, note TEXT NOT NULL)",
                f"CREATE TABLE IF NOT EXISTS {self.witnessed_table} "
                "(witness TEXT PRIMARY KEY, size BIGINT NOT NULL)",
            ]
        )

    @property
    def witnessed_table(self) -> str:
        return self.db.table("checkpoints_witnessed")

    def cosigned(self, size: int, line: str) -> None:
        """A witness's cosignature line appended to the checkpoint's note, in the statement
        itself: two signers appending at once lose neither line."""
        with self.db.transaction() as cur:
            cur.execute(f"UPDATE {self.table} SET note = note || ? WHERE size = ?", (line, size))

    def witnessed(self, witness: str) -> int:
        """The size this witness last cosigned for us (0: never)."""
        with self.db.read() as cur:
            row = cur.execute(
                f"SELECT size FROM {self.witnessed_table} WHERE witness = ?", (witness,)
            ).fetchone()
        return 0 if row is None else int(row["size"])

    def witnessed_at(self, witness: str, size: int) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                f"INSERT INTO {self.witnessed_table} (witness, size) VALUES (?, ?) "
                "ON CONFLICT (witness) DO UPDATE SET size = excluded.size",
                (witness, size),
            )

    def add(self, checkpoint: SignedCheckpoint) -> SignedCheckpoint:
        """Keep it, unless one of that size is kept already: then that one stands."""
        with self.db.transaction() as cur:
            cur.execute(
                f"INSERT INTO {self.table} VALUES (?, ?, ?, ?) ON CONFLICT (size) DO NOTHING",
                (
                    checkpoint.size,
                    checkpoint.root,
                    checkpoint.signed_at.timestamp(),
                    checkpoint.note,
                ),
            )
        found = self.of_size(checkpoint.size)
        assert found is not None
        return found

    def of_size(self, size: int) -> SignedCheckpoint | None:
        found = self._select("WHERE size = ?", [size])
        return found[0] if found else None

    def latest(self) -> SignedCheckpoint | None:
        found = self._select("ORDER BY size DESC LIMIT 1", [])
        return found[0] if found else None

    def page(self, first: int, below: int | None) -> list[SignedCheckpoint]:
        """Newest first, of sizes below `below`."""
        if below is None:
            return self._select("ORDER BY size DESC LIMIT ?", [first])
        return self._select("WHERE size < ? ORDER BY size DESC LIMIT ?", [below, first])

    def _select(self, where: str, params: list[object]) -> list[SignedCheckpoint]:
        with self.db.read() as cur:
            rows = cur.execute(f"SELECT * FROM {self.table} {where}", params).fetchall()
        return [
            SignedCheckpoint(
                size=int(r["size"]),
                root=bytes(r["root"]),
                signed_at=datetime.fromtimestamp(float(r["signed_at"]), UTC),
                note=r["note"],
            )
            for r in rows
        ]
