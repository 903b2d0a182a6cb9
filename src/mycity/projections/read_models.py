"""The read models of the app: keeping them live, rebuilding them, and waiting for them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import Tracking

from mycity.projections.agent_invitations import AgentInvitations
from mycity.projections.application_list import ApplicationList
from mycity.projections.catchup import Announcer, Catchup
from mycity.projections.citizen_profile import CitizenProfile
from mycity.projections.data_access import DataAccess
from mycity.projections.directory import Directory
from mycity.projections.enterprise_profile import EnterpriseProfile
from mycity.projections.fare_days import FareDays
from mycity.projections.fold import KeyedFold
from mycity.projections.generations import Generations
from mycity.projections.licence_uses import LicenceUseList
from mycity.projections.pages import read_pages
from mycity.projections.payment_list import PaymentList
from mycity.projections.positions import Positions
from mycity.projections.public_records import PublicRecords
from mycity.projections.ratings import Ratings
from mycity.projections.retention import RetentionSchedule
from mycity.projections.scan_log import ScanLog
from mycity.projections.settlement import Settlement
from mycity.projections.store import LiveRows, ReadModelStore, Row
from mycity.projections.subject_history import SubjectHistory
from mycity.projections.wallet import Wallet
from mycity.store.sql import Database

log = logging.getLogger(__name__)

# A rebuild folds the log a page per transaction: larger pages than a live runner's spend
# less on commits, and nobody waits for any one of them.
REBUILD_PAGE_SIZE = 5000
# A log this long is rebuilt in shards, each in a process of its own, if the city gives
# them (`ReadModels.shards`); a shorter one is done before the processes would have started.
SHARDED_FROM = 50_000


class Shards(Protocol):
    @property
    def workers(self) -> int: ...

    def __call__(
        self,
        name: str,
        generation: int,
        head: int,
        page_size: int,
        progress: Callable[[int, int], None] | None,
    ) -> int:
        """Fold a read model's generation up to `head`, shard by shard; how many folded."""
        ...


PROJECTIONS: tuple[type[KeyedFold], ...] = (
    CitizenProfile,
    EnterpriseProfile,
    Directory,
    DataAccess,
    SubjectHistory,
    ApplicationList,
    Ratings,
    Wallet,
    LicenceUseList,
    ScanLog,
    AgentInvitations,
    RetentionSchedule,
    PaymentList,
    Settlement,
    FareDays,
    PublicRecords,
)


class RebuildRunning(RuntimeError):
    """Another process is rebuilding this read model."""


class ReadModels:
    def __init__(
        self,
        app: Any,
        db: Database,
        projections: tuple[type[KeyedFold], ...] = PROJECTIONS,
        page_size: int = 1000,
        wait_seconds: float = 5.0,
        rebuild_page_size: int = REBUILD_PAGE_SIZE,
    ) -> None:
        self.app = app
        self.db = db
        self.page_size = page_size
        self.rebuild_page_size = rebuild_page_size
        self.wait_seconds = wait_seconds
        self.generations = Generations(db, app.name)
        self.classes = {cls.name: cls for cls in projections}
        # SQLite is read locally in microseconds; on PostgreSQL the fallback read only
        # covers a lost notification.
        self.positions = Positions(
            self.generations.live_positions, fallback=0.01 if db.dialect == "sqlite" else 0.1
        )
        self.announcer = Announcer(self.positions.advanced, db.schema)
        self._catchups: dict[str, Catchup] = {}
        self._versions: dict[str, int] = {}  # the rules version of each live generation
        self._lock = threading.Lock()
        self.wake = threading.Event()
        self.shards: Shards | None = None  # how a long log is rebuilt, if not in one process
        self.sharded_from = SHARDED_FROM

    def setup(self) -> None:
        """Create what is missing; a read model seen for the first time starts empty at 0."""
        self.generations.create_tables()
        for name in self.classes:
            self.live(name)

    def store(self, name: str, generation: int) -> ReadModelStore:
        return ReadModelStore(self.db, name, self.classes[name].spec, generation, self.app.vault)

    def projection(self, name: str, store: ReadModelStore) -> KeyedFold:
        """The read model's rules, folding into `store`; a raw one may decode the records it
        reads with the log's own mapper."""
        projection = self.classes[name](view=store)
        projection.mapper = self.app.mapper
        return projection

    def rows(self, name: str) -> LiveRows:
        """What readers see of a read model (its typed reader wraps this)."""
        return LiveRows(self.db, name, self.classes[name].spec, self.app.vault)

    def live(self, name: str) -> Catchup:
        """The catch-up of the generation readers see, following any switch-over."""
        active = self.generations.active(name)
        if active is None:
            store = self.store(name, 1)
            store.create_table()
            self.generations.activate(name, store, self.classes[name].version)
            active = (1, self.classes[name].version)
        return self._catchup(name, *active)

    def _catchup(self, name: str, generation: int, version: int) -> Catchup:
        with self._lock:
            self._versions[name] = version
            catchup = self._catchups.get(name)
            if catchup is None or catchup.store.generation != generation:
                projection = self.projection(name, self.store(name, generation))
                catchup = Catchup(self.app, projection, self.page_size, self.announcer)
                self._catchups[name] = catchup
        return catchup

    def members(self) -> list[tuple[Catchup, int]]:
        """The live generation of each read model this code's rules built, with how far
        it has folded, in one query (a runner of older code, in a rolling deploy, must
        not fold into a generation of newer rules)."""
        live = self.generations.live()
        found = []
        for name, cls in self.classes.items():
            if name not in live:
                catchup = self.live(name)  # seen for the first time: made now, at 0
                found.append((catchup, catchup.position()))
                continue
            generation, version, position = live[name]
            catchup = self._catchup(name, generation, version)
            if version == cls.version:
                found.append((catchup, position))
        return found

    def upgrade(self) -> list[str]:
        """Rebuild the read models whose rules are newer in this code than in the store.

        Only runners do this, so readers never start a rebuild; an older process seeing
        newer rules leaves them alone, so a rolling deploy does not flip-flop; a read model
        another process is rebuilding already is left to it.
        """
        upgraded = []
        for name, cls in self.classes.items():
            active = self.generations.active(name)
            if active is not None and active[1] < cls.version:
                log.warning(
                    "Read model %s: rules v%s -> v%s, rebuilding", name, active[1], cls.version
                )
                try:
                    self.rebuild(name)
                except RebuildRunning:
                    continue
                upgraded.append(name)
        return upgraded

    def run_once(self, name: str) -> int:
        """Fold what is new into the live generation, if this code's rules built it: a runner
        of older code (a rolling deploy) must not fold into a generation of newer rules."""
        catchup = self.live(name)
        if self._versions[name] != self.classes[name].version:
            return 0
        return catchup.run_once()

    def catch_up(self) -> int:
        return sum(self.run_once(name) for name in self.classes)

    def rebuild(
        self, name: str, progress: Callable[[int, int], None] | None = None
    ) -> dict[str, Any]:
        """Build the next generation beside the live one, then switch readers over. One
        rebuild of a read model at a time, across processes: another one is refused.
        `progress` hears the position reached and the head after each page."""
        if name not in self.classes:
            raise KeyError(name)
        with self.db.exclusive(f"rebuild-{name}") as held:
            if not held:
                raise RebuildRunning(name)
            return self._rebuild(name, progress)

    def _rebuild(self, name: str, progress: Callable[[int, int], None] | None) -> dict[str, Any]:
        active = self.generations.active(name)
        if self.db.dialect == "postgres":
            # Fresh planner statistics: after a bulk load, a stale plan for the page query
            # costs ten times more per page than the rest of the rebuild.
            log_table = self.db.table(self.app.recorder.events_table_name)
            with self.db.transaction() as cur:
                cur.execute(f"ANALYZE {log_table} (notification_id, topic)")
        store = self.store(name, (active[0] if active else 0) + 1)
        store.drop_table()
        indexed_first = self.classes[name].folds_by_index  # else indexed once full
        store.create_table(indexed=indexed_first)
        catchup = Catchup(self.app, self.projection(name, store), self.rebuild_page_size)
        started = time.perf_counter()
        events = 0
        head = self.app.head()
        if self.shards is not None and self.shards.workers > 1 and head >= self.sharded_from:
            events = self.shards(name, store.generation, head, self.rebuild_page_size, progress)
            with self.db.transaction() as cur:  # then what came since, as in one process
                store.advance(cur, Tracking(self.app.name, head), None)
        while folded := catchup.run_once(progress):
            events += folded
        if not indexed_first:
            store.create_indexes()
        seconds = time.perf_counter() - started
        self.generations.activate(name, store, self.classes[name].version)
        self.announcer.advanced(name, catchup.position())
        if active:
            self.store(name, active[0]).drop_table()
        return {
            "name": name,
            "generation": store.generation,
            "events": events,
            "seconds": seconds,
            "position": catchup.position(),
        }

    def row_as_of(
        self,
        name: str,
        key: str,
        position: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> Row | None:
        """A row as it stood when the log reached `position`: the read model's rules folded
        again over the log up to there, in memory, for that row alone (nothing is written).
        For read models of one row per key (`apply` folds it); `progress` hears each page."""
        projection = self.projection(name, self.store(name, 0))  # a generation never built
        row: Row | None = None
        with read_pages(
            self.app,
            0,
            position,
            topics=projection.topics,
            raw=projection.raw,
            page_size=self.page_size,
            opens=projection.opens,
        ) as pages:
            for page in pages:
                for item in page.items:
                    if projection.key(item) == key:
                        row = projection.apply(item, row)
                if progress:
                    progress(page.last, position)
        return row

    def delete_rows(self, name: str, where: str, params: list[Any]) -> int:
        """Delete rows of the live generation (retention); a rebuild brings them back."""
        active = self.generations.active(name)
        if active is None:
            return 0
        with self.db.transaction() as cur:
            return cur.execute(
                f"DELETE FROM {self.store(name, active[0]).table} {where}", params
            ).rowcount

    def status(self) -> list[dict[str, Any]]:
        head = self.app.head()
        positions = self.generations.live_positions(list(self.classes))
        report = []
        for name, cls in self.classes.items():
            active = self.generations.active(name)
            report.append(
                {
                    "name": name,
                    "generation": active[0] if active else None,
                    "version": active[1] if active else None,
                    "code_version": cls.version,
                    "position": positions[name],
                    "head": head,
                    "lag": head - positions[name],
                }
            )
        return report

    def _names(self, names: Sequence[str]) -> Sequence[str]:
        for name in names:
            if name not in self.classes:
                raise KeyError(name)
        return names or list(self.classes)

    def wait(self, position: int, *names: str, timeout: float | None = None) -> bool:
        """Block until the named read models (all if none) include the event at `position`
        (read-your-writes); False if they have not within the timeout."""
        self.wake.set()
        return self.positions.wait(
            position, self._names(names), self.wait_seconds if timeout is None else timeout
        )

    async def reached(
        self,
        position: int,
        *names: str,
        blocking: Callable[..., Awaitable[Any]],
        timeout: float | None = None,
    ) -> bool:
        """`wait` for the event loop, holding no thread while it waits."""
        self.wake.set()
        return await self.positions.reached(
            position,
            self._names(names),
            self.wait_seconds if timeout is None else timeout,
            blocking=blocking,
        )
