"""The event store: one eventsourcing `Application` for every file in the city.

One application means one global log, so one order of every fact the city records: the
read models, the processes that follow the log, replays and the audit's tamper evidence
all depend on it. This class holds only what every capability shares: getting an
aggregate, saving (through the group commit), retrying a command that lost a race, and
the log's head. The use cases live in `mycity.usecases`.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    LRUCache,
    ProcessingEvent,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    ProcessRecorder,
    StoredEvent,
)
from eventsourcing.utils import get_topic

from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.personal import Retention, personal_of
from mycity.store.group_commit import GroupCommit
from mycity.store.sealing import ByUuidAsPairs, SealedAsText, SealingMapper
from mycity.store.seals import key_id
from mycity.store.sql import Database
from mycity.store.vault import Vault

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)


class CityFiles(Application[UUID]):
    """Every citizen's and enterprise's file, in one log (the name fixes the table names)."""

    name = "CityFiles"
    # A snapshot every so many events of a file keeps it fast to load at any version.
    snapshot_every: ClassVar[int] = 100

    def __init__(self, env: dict[str, str], vault: Vault) -> None:
        self.vault = vault  # the mapper, built by the base class, seals with it
        super().__init__(env)
        self.recorder: ProcessRecorder
        self.mapper: SealingMapper
        self.on_saved: list[Callable[[], None]] = []
        self.group_commit = GroupCommit(self._save_events)
        vault.on_shred.append(self._forget_decoded)

    def construct_mapper(self) -> Mapper[UUID]:
        return SealingMapper(
            self.construct_transcoder(),
            self.vault,
            cipher=self.factory.cipher(),
            compressor=self.factory.compressor(),
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(SealedAsText())
        transcoder.register(ByUuidAsPairs())

    def construct_recorder(self) -> ProcessRecorder:
        """A process recorder: processes that follow the log save their events together
        with their position in it, in one transaction (see `mycity.processes`)."""
        return self.factory.process_recorder()

    def _notify(self, recordings: list[Any]) -> None:
        """After each save: wake whoever follows the log in this process."""
        for listener in self.on_saved:
            listener()

    def get(self, kind: type[A], aggregate_id: UUID, field: str = "id") -> A:
        """The aggregate, to run a command on, or NOT_FOUND naming the input field the id
        came from."""
        return self._get(kind, aggregate_id, field, copy=True)

    def read(self, kind: type[A], aggregate_id: UUID, field: str = "id", at_least: int = 0) -> A:
        """The aggregate, to read and never change: the cached one itself, not a copy.
        One cached at `at_least` or later (the version a read model has shown) is taken as
        it is, without asking the store whether it has moved on since."""
        if at_least:
            self.vault.refresh()  # another process's erasure reaches the cache, too
            cached = self._cached(aggregate_id)
            if isinstance(cached, kind) and cached.version >= at_least:
                return cached
        return self._get(kind, aggregate_id, field, copy=False)

    def _cached(self, aggregate_id: UUID) -> Aggregate | None:
        cache = self.repository.cache
        if cache is None:
            return None
        try:
            found = cache.get(aggregate_id)
        except KeyError:
            return None
        return found if isinstance(found, Aggregate) else None

    def _get(self, kind: type[A], aggregate_id: UUID, field: str, *, copy: bool) -> A:
        self.vault.refresh()  # another process's erasure reaches the cache, too
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id, deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            aggregate = None  # type: ignore[assignment]
        if not isinstance(aggregate, kind):
            raise UserError(ErrorCode.NOT_FOUND, f"No such {kind.__name__.lower()}", field)
        return aggregate

    def _forget_decoded(self, shredded: set[UUID]) -> None:
        """Drop the cached files holding these people's fields as decoded before their keys
        were shredded: read again, they decode as erased (an officer reading an erased
        applicant's form sees nothing)."""
        cache = self.repository.cache
        if not isinstance(cache, LRUCache):  # no cache (MYCITY_AGGREGATE_CACHE=0)
            return
        with cache.lock:  # eventsourcing's LRU: key -> [previous, next, key, aggregate]
            cached = [(key, link[LRUCache.RESULT]) for key, link in cache.cache.items()]
        for file_id, aggregate in cached:
            person = _person_of(aggregate)
            if person is not None and not shredded.isdisjoint(key_id(person, r) for r in Retention):
                with contextlib.suppress(KeyError):  # dropped meanwhile
                    cache.get(file_id, evict=True)

    def find(self, aggregate_id: UUID) -> Aggregate | None:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate

    def exists(self, aggregate_id: UUID) -> bool:
        try:
            self.repository.get(aggregate_id, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            return False
        return True

    def existing(self, db: Database, ids: Iterable[UUID]) -> set[UUID]:
        """Which of these files exist, in one query (a batch of new one-event files, to
        tell those already recorded)."""
        rows = self._select_streams(db, ids, "originator_id", "originator_version = 1")
        return {UUID(str(row["originator_id"])) for row in rows}

    def holds(self, db: Database, aggregate_id: UUID, kinds: Sequence[type]) -> bool:
        """Whether the file holds an event of one of these kinds: asked of the log, nothing
        decoded (a late notification's question: has the payment its outcome already?)."""
        topics = [get_topic(kind) for kind in kinds]
        with db.read() as cur:
            found = cur.execute(
                f"SELECT 1 FROM {self._events(db)} WHERE originator_id = ? "
                f"AND topic IN ({', '.join('?' * len(topics))}) LIMIT 1",
                [_as_kept(db, aggregate_id), *topics],
            ).fetchone()
        return found is not None

    def read_many(self, db: Database, kind: type[A], ids: Iterable[UUID]) -> dict[UUID, A]:
        """Many short files at once, each replayed from its first event, in one query (an
        offline batch's code holders: one round trip instead of one per scan). Ids that
        name no file, or a file of another kind, are left out."""
        columns = "originator_id, originator_version, topic, state"
        rows = self._select_streams(db, ids, columns, "TRUE")
        streams: dict[UUID, list[Any]] = {}
        for row in sorted(rows, key=lambda r: (str(r["originator_id"]), r["originator_version"])):
            stored = StoredEvent(
                UUID(str(row["originator_id"])),
                row["originator_version"],
                row["topic"],
                bytes(row["state"]),
            )
            streams.setdefault(stored.originator_id, []).append(  # type: ignore[arg-type]
                self.mapper.to_domain_event(stored)
            )
        found = {i: _replayed(events) for i, events in streams.items()}
        return {i: a for i, a in found.items() if isinstance(a, kind)}

    def _select_streams(
        self, db: Database, ids: Iterable[UUID], columns: str, condition: str
    ) -> list[Any]:
        wanted = list(dict.fromkeys(ids))  # each once: SQLite asks in chunks
        query = f"SELECT {columns} FROM {self._events(db)} WHERE {condition} AND originator_id"
        if not wanted:
            return []
        with db.read() as cur:
            return cur.select_any(query, [_as_kept(db, w) for w in wanted])

    def _events(self, db: Database) -> str:
        return db.table(self.recorder.events_table_name)  # type: ignore[attr-defined]

    def head(self) -> int:
        """The position of the last event in the global log (0 when it is empty)."""
        return self.recorder.max_notification_id() or 0

    def commit(self, *aggregates: Aggregate) -> int:
        """Save the aggregates' new events atomically, in a group commit with concurrent
        commands; return the position of the last one, or the log's head if there was none
        (so a caller waiting for read models sees at least what the command read)."""
        events = [e for a in aggregates for e in a.collect_events()]
        if not events:
            return self.head()
        self.vault.ensure(self.mapper.subjects(events))
        position: int = self.group_commit.commit(events)[-1].notification.id
        self._snapshot(events)
        return position

    def _snapshot(self, events: Sequence[Any]) -> None:
        """Snapshot each file whose new events reach a multiple of `snapshot_every`."""
        for event in events:
            if event.originator_version % self.snapshot_every == 0:
                self.take_snapshot(event.originator_id, version=event.originator_version)

    def _save_events(self, events: Sequence[Any]) -> Sequence[Any]:
        """`save(*events)` without its runtime-Protocol `isinstance` per event (a tenth of
        a batch of scans' Python): these are events, collected from their aggregates."""
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        processing.events.extend(events)
        recordings = self._record(processing)
        self._notify(recordings)
        return recordings

    def record(self, processing: ProcessingEvent[UUID]) -> None:
        """Save a process's new events with its tracking position, in one transaction."""
        self.vault.ensure(self.mapper.subjects(processing.events))
        recordings = self._record(processing)
        self._take_snapshots(processing)
        if recordings:
            self._notify(recordings)

    def update(self, kind: type[A], aggregate_id: UUID, command: Callable[[A], Any]) -> int:
        """Load, run the command on the aggregate, save; again if another writer won."""

        def attempt() -> int:
            aggregate = self.get(kind, aggregate_id)
            command(aggregate)
            return self.commit(aggregate)

        return self.retrying(attempt)

    @staticmethod
    def retrying(attempt: Callable[[], T], tries: int = 5) -> T:
        """Re-run a command that lost a race with another writer on the same file.

        Each try reloads the file, so it sees the winner's events; a short random pause
        keeps writers that lost together from meeting again in the next group commit."""
        for _ in range(tries - 1):
            try:
                return attempt()
            except IntegrityError:
                time.sleep(random.uniform(0, 0.002))
        try:
            return attempt()
        except IntegrityError:
            raise UserError(ErrorCode.CONCURRENT_CHANGE, "The file changed; try again") from None


def _person_of(aggregate: Any) -> UUID | None:
    """Whose fields the file holds, as its class declares (None: nobody's)."""
    declared = personal_of(type(aggregate))
    if declared is None:
        return None
    if declared.subject == "originator_id":
        return aggregate.id  # type: ignore[no-any-return]
    return getattr(aggregate, declared.subject, None)


def _as_kept(db: Database, file: UUID) -> UUID | str:
    """A file's id as eventsourcing keeps it in the log: a uuid on PostgreSQL, its hex on
    SQLite."""
    return file if db.dialect == "postgres" else file.hex


def _replayed(events: Iterable[Any]) -> Any:
    """A file's aggregate from its events: eventsourcing's `project_aggregate` without its
    per-event `isinstance` against a runtime Protocol, a third of a batch's replay here."""
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate
