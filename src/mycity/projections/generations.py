"""Which generation of each read model readers see, at which version of its rules.

Each read model lives in generation tables `<name>_g<N>`; readers query the SQL view
`<name>`, which a rebuild repoints at the next generation in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from mycity.projections.store import ReadModelStore
from mycity.store.sql import Database


class Generations:
    def __init__(self, db: Database, application_name: str) -> None:
        self.db = db
        self.application_name = application_name
        self.table = db.table("read_models")
        self.tracking = db.table(ReadModelStore.TRACKING_TABLE)

    def create_tables(self) -> None:
        self.db.create_tables(
            [
                f"CREATE TABLE IF NOT EXISTS {self.table} (name TEXT PRIMARY KEY, "
                "generation INTEGER NOT NULL, version INTEGER NOT NULL, "
                "activated_at DOUBLE PRECISION NOT NULL)",
                f"CREATE TABLE IF NOT EXISTS {self.tracking} ("
                "view TEXT NOT NULL, application_name TEXT NOT NULL, "
                "notification_id BIGINT NOT NULL, PRIMARY KEY (view, application_name))",
            ]
        )

    def active(self, name: str) -> tuple[int, int] | None:
        """The live generation and the version of its rules, or None if never created."""
        with self.db.read() as cur:
            row = cur.execute(
                f"SELECT generation, version FROM {self.table} WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else (int(row["generation"]), int(row["version"]))

    def activate(self, name: str, store: ReadModelStore, version: int) -> None:
        """Point readers at this generation, atomically."""
        view = self.db.table(name)
        with self.db.transaction() as cur:
            cur.execute(f"DROP VIEW IF EXISTS {view}")
            cur.execute(f"CREATE VIEW {view} AS SELECT * FROM {store.table}")
            cur.execute(
                f"INSERT INTO {self.table} VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE "
                "SET generation = excluded.generation, version = excluded.version, "
                "activated_at = excluded.activated_at",
                (name, store.generation, version, time.time()),
            )

    def live_positions(self, names: Sequence[str]) -> dict[str, int]:
        """How far each live generation has folded the log (0 if not at all), in one query."""
        marks = ", ".join("?" * len(names))
        with self.db.read() as cur:
            rows = cur.execute(
                f"SELECT r.name, t.notification_id FROM {self.table} r JOIN {self.tracking} t "
                "ON t.view = r.name || '_g' || CAST(r.generation AS TEXT) "
                f"AND t.application_name = ? WHERE r.name IN ({marks})",
                (self.application_name, *names),
            ).fetchall()
        return dict.fromkeys(names, 0) | {row["name"]: int(row["notification_id"]) for row in rows}

    def live(self) -> dict[str, tuple[int, int, int]]:
        """Each read model's live generation, rules version and position (0 if it has
        folded nothing yet), in one query: what a runner's pass starts from."""
        with self.db.read() as cur:
            rows = cur.execute(
                f"SELECT r.name, r.generation, r.version, t.notification_id "
                f"FROM {self.table} r LEFT JOIN {self.tracking} t "
                "ON t.view = r.name || '_g' || CAST(r.generation AS TEXT) "
                "AND t.application_name = ?",
                (self.application_name,),
            ).fetchall()
        return {
            row["name"]: (
                int(row["generation"]),
                int(row["version"]),
                int(row["notification_id"] or 0),
            )
            for row in rows
        }
