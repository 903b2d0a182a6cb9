"""The read models of the app: keeping them live, rebuilding them, and reading them."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from psycopg.sql import SQL, Identifier

from mycity.persistence import Database
from mycity.projections.citizen_profile import CitizenProfile
from mycity.projections.directory import Directory
from mycity.projections.enterprise_profile import EnterpriseProfile
from mycity.projections.machinery import (
    Catchup,
    ReadModelRegistry,
    ReadModelStore,
    Row,
    RowProjection,
    decode_row,
    select_rows,
)

log = logging.getLogger(__name__)

PROJECTIONS: tuple[type[RowProjection], ...] = (CitizenProfile, EnterpriseProfile, Directory)


class ReadModels:
    def __init__(
        self,
        app: Any,
        db: Database,
        projections: tuple[type[RowProjection], ...] = PROJECTIONS,
        page_size: int = 1000,
    ) -> None:
        self.app = app
        self.db = db
        self.page_size = page_size
        self.registry = ReadModelRegistry(db)
        self.classes = {cls.name: cls for cls in projections}
        self._catchups: dict[str, Catchup] = {}
        self._lock = threading.Lock()
        self.wake = threading.Event()

    def setup(self) -> None:
        """Create what is missing; a read model seen for the first time starts empty at 0."""
        self.registry.create_tables()
        for name in self.classes:
            self.live(name)

    def store(self, name: str, generation: int) -> ReadModelStore:
        return ReadModelStore(self.db, name, self.classes[name].spec, generation)

    def live(self, name: str) -> Catchup:
        """The catch-up of the generation readers see, following any switch-over."""
        active = self.registry.active(name)
        if active is None:
            store = self.store(name, 1)
            store.create_table()
            self.registry.activate(name, store, self.classes[name].version)
            active = (1, self.classes[name].version)
        with self._lock:
            catchup = self._catchups.get(name)
            if catchup is None or catchup.store.generation != active[0]:
                projection = self.classes[name](view=self.store(name, active[0]))
                catchup = Catchup(self.app, projection, self.page_size)
                self._catchups[name] = catchup
        return catchup

    def upgrade(self) -> list[str]:
        """Rebuild the read models whose rules are newer in this code than in the store.

        Only runners do this, so readers never start a rebuild; an older process seeing
        newer rules leaves them alone, so a rolling deploy does not flip-flop.
        """
        upgraded = []
        for name, cls in self.classes.items():
            active = self.registry.active(name)
            if active is not None and active[1] < cls.version:
                log.warning(
                    "Read model %s: rules v%s -> v%s, rebuilding", name, active[1], cls.version
                )
                self.rebuild(name)
                upgraded.append(name)
        return upgraded

    def catch_up(self) -> int:
        return sum(self.live(name).run_once() for name in self.classes)

    def rebuild(self, name: str) -> dict[str, Any]:
        """Build the next generation beside the live one, then switch readers over."""
        if name not in self.classes:
            raise KeyError(name)
        active = self.registry.active(name)
        if self.db.dialect == "postgres":
            # Fresh planner statistics: after a bulk load, a stale plan for the page query
            # costs ten times more per page than the rest of the rebuild.
            log_table = self.db.table(self.app.recorder.events_table_name)
            with self.db.transaction() as cur:
                cur.execute(f"ANALYZE {log_table} (notification_id, topic)")
        store = self.store(name, (active[0] if active else 0) + 1)
        store.drop_table()
        store.create_table()
        catchup = Catchup(self.app, self.classes[name](view=store), self.page_size)
        started = time.perf_counter()
        events = 0
        while folded := catchup.run_once():
            events += folded
        seconds = time.perf_counter() - started
        self.registry.activate(name, store, self.classes[name].version)
        if active:
            self.store(name, active[0]).drop_table()
        return {
            "name": name,
            "generation": store.generation,
            "events": events,
            "seconds": seconds,
            "position": catchup.position(),
        }

    def status(self) -> list[dict[str, Any]]:
        head = self.app.recorder.max_notification_id() or 0
        report = []
        for name, cls in self.classes.items():
            active = self.registry.active(name)
            position = (
                self.store(name, active[0]).max_tracking_id(self.app.name) or 0 if active else 0
            )
            report.append(
                {
                    "name": name,
                    "generation": active[0] if active else None,
                    "version": active[1] if active else None,
                    "code_version": cls.version,
                    "position": position,
                    "head": head,
                    "lag": head - position,
                }
            )
        return report

    def wait(self, position: int, timeout: float = 5.0) -> bool:
        """Block until every read model includes the event at `position` (read-your-writes)."""
        self.wake.set()
        deadline = time.monotonic() + timeout
        pending = list(self.classes)
        while pending:
            pending = [n for n in pending if self.live(n).position() < position]
            if not pending:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def run_forever(self, stop: threading.Event, poll_seconds: float = 0.5) -> None:
        """Keep every read model caught up until `stop` is set; survive store errors."""
        if self.db.dialect == "postgres":
            threading.Thread(target=self._listen, args=(stop,), daemon=True).start()
        backoff = poll_seconds
        self.upgrade()
        while not stop.is_set():
            try:
                self.catch_up()
                backoff = poll_seconds
            except Exception:
                log.exception("Read model catch-up failed; retrying in %.1f s", backoff)
                backoff = min(backoff * 2, 30.0)
            self.wake.wait(backoff)
            self.wake.clear()

    def _listen(self, stop: threading.Event) -> None:
        """Wake the runner on eventsourcing's NOTIFY, so other processes' events show at once."""
        channel = self.app.recorder.channel_name
        while not stop.is_set():
            try:
                with self.app.recorder.datastore.get_connection() as conn:
                    conn.execute(SQL("LISTEN {0}").format(Identifier(channel)))
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self.wake.set()
            except Exception:
                log.exception("LISTEN on %s failed; retrying", channel)
                stop.wait(1.0)

    # -- reading ----------------------------------------------------------------------------

    def get(self, name: str, key: str) -> Row | None:
        return self.get_many(name, [key]).get(key)

    def get_many(self, name: str, keys: list[str]) -> dict[str, Row]:
        with self.db.transaction(commit=False) as cur:
            return select_rows(cur, self.db.table(name), self.classes[name].spec, keys)

    def search_directory(
        self, text: str, kind: str | None, first: int, after: tuple[str, str] | None
    ) -> list[Row]:
        """Entries whose name starts with `text` (case-folded), in (name, id) order."""
        spec = self.classes["directory"].spec
        sql = f"SELECT * FROM {self.db.table('directory')} WHERE name_key LIKE ? ESCAPE '\\'"
        escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params: list[Any] = [escaped + "%"]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        if after:
            sql += " AND (name_key > ? OR (name_key = ? AND id > ?))"
            params += [after[0], after[0], after[1]]
        sql += " ORDER BY name_key, id LIMIT ?"
        params.append(first)
        with self.db.transaction(commit=False) as cur:
            return [decode_row(spec, row) for row in cur.execute(sql, params).fetchall()]
