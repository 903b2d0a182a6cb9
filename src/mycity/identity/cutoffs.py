"""Sessions ended early: access tokens of a subject issued before a moment stop working.

An access token is checked by its signature alone, so ending a session early (a file taken
over from whoever had registered it, a client disabled) needs a list of who is cut off since
when. It is kept in the store and read into each process at most every `refresh_seconds`,
and only its last `keep_seconds` (the access tokens' lifetime) matter: older tokens expire
by themselves.
"""

from __future__ import annotations

import threading
import time

from mycity.store.sql import Database


class Cutoffs:
    def __init__(self, db: Database, keep_seconds: float, refresh_seconds: float = 5.0) -> None:
        self.db = db
        self.keep_seconds = keep_seconds
        self.refresh_seconds = refresh_seconds
        self.table = db.table("session_cutoffs")
        self._known: dict[str, float] = {}
        self._loaded_at = -refresh_seconds - 1
        self._lock = threading.Lock()

    def create_tables(self) -> None:
        self.db.create_tables(
            [
                f"CREATE TABLE IF NOT EXISTS {self.table} (subject TEXT PRIMARY KEY, "
                "not_before DOUBLE PRECISION NOT NULL)"
            ]
        )

    def cut(self, subject: str, now: float | None = None) -> None:
        """From now on, tokens of `subject` issued before this moment are refused."""
        moment = time.time() if now is None else now
        with self.db.transaction() as cur:
            cur.execute(
                f"INSERT INTO {self.table} VALUES (?, ?) ON CONFLICT (subject) DO UPDATE "
                "SET not_before = excluded.not_before",
                (subject, moment),
            )
            cur.execute(
                f"DELETE FROM {self.table} WHERE not_before < ?", (moment - self.keep_seconds,)
            )
        with self._lock:
            self._known[subject] = moment

    def not_before(self, subject: str) -> float:
        """The moment before which `subject`'s tokens are refused (0 if none)."""
        if time.monotonic() - self._loaded_at > self.refresh_seconds:
            self._load()
        return self._known.get(subject, 0.0)

    def _load(self) -> None:
        with self._lock:
            if time.monotonic() - self._loaded_at <= self.refresh_seconds:
                return
            since = time.time() - self.keep_seconds
            with self.db.read() as cur:
                rows = cur.execute(
                    f"SELECT subject, not_before FROM {self.table} WHERE not_before >= ?",
                    (since,),
                ).fetchall()
            self._known = {row["subject"]: float(row["not_before"]) for row in rows}
            self._loaded_at = time.monotonic()
