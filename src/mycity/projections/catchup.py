"""Feeding one generation of one read model from the log, a page per transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, Tracking

from mycity.projections.fold import KeyedFold
from mycity.projections.pages import read_pages
from mycity.projections.store import ReadModelStore
from mycity.store.sql import Cursor

log = logging.getLogger(__name__)


class Announcer:
    """Tells waiters how far a live read model has folded: in this process once a page has
    committed, and on PostgreSQL every process, by a NOTIFY sent with the page's commit."""

    def __init__(self, advanced: Callable[[str, int], None], schema: str = "public") -> None:
        self.advanced = advanced
        # A channel is the whole database's: two cities in two schemas of one database must
        # not hear each other's positions (eventsourcing names its own `<schema>_<table>`).
        self.channel = f"{schema}_mycity_read_models"

    def in_page(self, cur: Cursor, names: Sequence[str], position: int) -> None:
        """Tell every process, when the page's transaction commits, that these read models
        reached `position`: one NOTIFY, `<position> <name> <name> …`, for all of them."""
        if cur.dialect == "postgres":
            cur.execute("SELECT pg_notify(?, ?)", (self.channel, " ".join([str(position), *names])))

    def advanced_all(self, names: Sequence[str], position: int) -> None:
        for name in names:
            self.advanced(name, position)


class Catchup:
    """Feeds one projection; `announcer` is given only for the generation readers see."""

    def __init__(
        self,
        app: Any,
        projection: KeyedFold,
        page_size: int = 1000,
        announcer: Announcer | None = None,
    ) -> None:
        self.app = app
        self.projection = projection
        self.topics = frozenset(projection.topics)  # a raw projection folds every record
        self.page_size = page_size
        self.announcer = announcer

    @property
    def store(self) -> ReadModelStore:
        return self.projection.view

    @property
    def name(self) -> str:
        return self.projection.name

    def position(self) -> int:
        return self.store.max_tracking_id(self.app.name) or 0

    def run_once(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Fold everything recorded so far; returns the number of events folded. `progress`
        hears the position reached and the head after each page.

        If another runner moves the position first, this one stops: the other did the work.
        """
        start = self.position()
        head = self.app.head()
        folded = 0
        if start < head:
            with read_pages(
                self.app,
                start,
                head,
                topics=self.projection.topics,
                raw=self.projection.raw,
                page_size=self.page_size,
                opens=self.projection.opens,
            ) as pages:
                for page in pages:
                    try:
                        self._write(page.items, page.last, start)
                    except IntegrityError:
                        log.info("%s was advanced by another runner", self.store.view_name)
                        start = self.position()
                        break
                    folded += len(page.items)
                    start = page.last
                    if self.announcer:
                        self.announcer.advanced(self.name, start)
                    if progress:
                        progress(start, head)
        if self.announcer:
            self.announcer.advanced(self.name, start)
        return folded

    def _write(self, items: list[Any], last: int, expected: int) -> None:
        with self.store.db.transaction() as cur:
            self.projection.fold(cur, items, Tracking(self.app.name, last), expected=expected)
            if self.announcer:
                self.announcer.in_page(cur, [self.name], last)
