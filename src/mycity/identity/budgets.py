"""Budgets: how many of something a key may spend in a fixed window, shared by every process
through the store (one row per key, counted by one atomic upsert)."""

from __future__ import annotations

import time

from mycity.store.sql import Cursor, Database


class Budgets:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.table("budgets")

    def create_tables(self) -> None:
        self.db.create_tables(
            [
                f"CREATE TABLE IF NOT EXISTS {self.table} (key TEXT PRIMARY KEY, "
                "window_start DOUBLE PRECISION NOT NULL, spent INTEGER NOT NULL)",
                f"CREATE INDEX IF NOT EXISTS budgets_window ON {self.table} (window_start)",
            ]
        )

    def spend(
        self, cur: Cursor, key: str, window: float, now: float, amount: int = 1
    ) -> tuple[int, float]:
        """Count `amount` more for `key` (one, or a size); what it has spent in its window
        now, and when that window ends. A key whose window has passed starts a new one."""
        start = now - window
        row = cur.execute(
            f"INSERT INTO {self.table} AS b (key, window_start, spent) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET "
            "spent = CASE WHEN b.window_start <= ? THEN excluded.spent "
            "ELSE b.spent + excluded.spent END, "
            "window_start = CASE WHEN b.window_start <= ? THEN excluded.window_start "
            "ELSE b.window_start END RETURNING spent, window_start",
            (key, now, amount, start, start),
        ).fetchone()
        return int(row["spent"]), float(row["window_start"]) + window

    def spent(self, cur: Cursor, key: str, window: float, now: float) -> tuple[int, float]:
        """What `key` has spent in its window, and when the window ends (0 and now if none)."""
        row = cur.execute(
            f"SELECT spent, window_start FROM {self.table} WHERE key = ?", (key,)
        ).fetchone()
        if row is None or row["window_start"] <= now - window:
            return 0, now
        return int(row["spent"]), float(row["window_start"]) + window

    def forget_before(self, cur: Cursor, moment: float) -> None:
        """Drop the windows that started before `moment` (they can only have passed)."""
        cur.execute(f"DELETE FROM {self.table} WHERE window_start < ?", (moment,))


def seconds_until(end: float, now: float | None = None) -> int:
    return max(int(end - (time.time() if now is None else now)) + 1, 1)
