"""How a page of the log becomes rows: the two kinds of read model.

- A `RowProjection` folds decoded domain events: `apply(event, row) -> row` is registered
  per event class, and those classes are the topics it reads.
- A `RawProjection` folds the stored records themselves (`eventsourcing` notifications:
  position, stream, version, topic and the encrypted state), of every topic, in order, and
  never decodes them: what hashes the log as stored (the audit's Merkle tree) needs the
  bytes, and an event whose person's key was shredded can no longer be decoded.

Both are eventsourcing `Projection`s whose view is a `ReadModelStore`; `apply` is pure (the
item and the current row in, the new row or None out), which lets a whole page be folded in
memory and written in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from eventsourcing.persistence import Notification, Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from mycity.domain.personal import Retention
from mycity.projections.store import ReadModelStore, Row, TableSpec
from mycity.store.sql import Cursor


class KeyedFold(Projection[ReadModelStore]):
    """Rows that are each the fold of the items `key` maps to them."""

    spec: ClassVar[TableSpec]
    version: ClassVar[int] = 1  # raise it when the table or the rules change: then rebuild
    raw: ClassVar[bool] = False  # whether it reads stored records instead of domain events
    mapper: Any  # the log's mapper, for raw ones that decode what they read
    # The topics whose items fold into a row other than their stream's: a sharded rebuild
    # learns their shard by decoding them. None: every topic's (a read model that keys its
    # rows otherwise than by stream and does not say).
    elsewhere: ClassVar[frozenset[str] | None] = frozenset()
    # The retention classes of the personal fields its rules read: reading the log for it
    # alone (a rebuild), only these keys are looked up and opened; the others' fields
    # fold as None. None: every class.
    opens: ClassVar[frozenset[Retention] | None] = None
    # Whether its fold queries its own table by an index other than the key: a rebuild
    # then indexes the new table before folding, not once after (a scan a page, else).
    folds_by_index: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "key" in cls.__dict__ and "elsewhere" not in cls.__dict__:
            cls.elsewhere = None

    def key(self, item: Any) -> str:
        return str(item.originator_id)

    def apply(self, item: Any, row: Row | None) -> Row | None:
        raise NotImplementedError

    def shard_key(self, record: Notification) -> str | None:
        """What a sharded rebuild splits the log by, told from the stored record before it
        is decoded: records of one shard key fold in one worker, so every row an item's
        fold reads or writes must be of its shard key. The stream's, but None for the
        topics `elsewhere` names: only the decoded item tells, and its `key` is the shard
        key."""
        elsewhere = self.elsewhere
        if elsewhere is None or record.topic in elsewhere:
            return None
        return str(record.originator_id)

    def creates(self, item: Any) -> bool:
        """Whether `apply` ignores the current row for this item: then it is not loaded."""
        return False

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """eventsourcing's one-event entry point: a batch of one."""
        with self.view.db.transaction() as cur:
            self.fold(cur, [domain_event], tracking, expected=None)

    def fold(
        self, cur: Cursor, items: Sequence[Any], tracking: Tracking, expected: int | None
    ) -> None:
        """Fold the items into the rows and move the position, in the caller's transaction."""
        self.fold_rows(cur, items)
        self.view.advance(cur, tracking, expected)

    def fold_rows(self, cur: Cursor, items: Sequence[Any], decoder: Any = None) -> None:
        """Fold the items into the rows they touch; the position is the caller's to move
        (a page folded by many read models moves all their positions in one statement).
        A raw projection that decodes what it reads asks `decoder` (the page's, shared by
        its followers) if given, else the log's mapper."""
        if not items:
            return
        keyed = [(self.key(item), item) for item in items]
        created: set[str] = set()
        needed: set[str] = set()
        for key, item in keyed:  # a row whose first item creates it need not be loaded
            if key not in created and key not in needed:
                (created if self.creates(item) else needed).add(key)
        rows: dict[str, Row | None] = dict(self.view.load(cur, needed))
        changed: dict[str, Row | None] = {}
        apply = self.apply  # bound once: a singledispatchmethod wraps on every access
        for key, item in keyed:
            rows[key] = changed[key] = apply(item, rows.get(key))
        self.view.write_rows(cur, changed)


class RowProjection(KeyedFold):
    """Each subclass defines `apply` as a `singledispatchmethod` registered per event class."""

    creating: ClassVar[tuple[type, ...]] = ()  # events whose `apply` ignores the current row

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        registry = cls.__dict__["apply"].dispatcher.registry
        cls.topics = tuple(get_topic(c) for c in registry if c is not object)

    def creates(self, item: Any) -> bool:
        return isinstance(item, self.creating)


class RawProjection(KeyedFold):
    """Folds `Notification`s: every stored record of every topic, undecoded."""

    raw = True

    def apply(self, item: Notification, row: Row | None) -> Row | None:
        raise NotImplementedError


def touched(row: Row, event: Any, **changes: Any) -> Row:
    """A file's row after one of its events: the changes, and the file's new version."""
    return (
        row
        | changes
        | {
            "updated_at": event.timestamp.isoformat(),
            "version": event.originator_version,
        }
    )
