"""One pass over the log for every follower: each new page is read once and handed to all.

Every capability adds followers of the log (read models, the Merkle tree, processes). Each
used to ask its own position and the head, read its own pages and commit its own
transaction after every commit, so a single write paid for all of them, and more with every
capability. A pass instead:

- asks the head and every read model's position in two queries (the tree and the processes
  keep theirs in memory: a compare-and-set refuses a stale one);
- reads each page of the log once for every follower at the pass's position, and decodes
  each event once (`DecodeOnce`), whoever wants it first;
- folds the page into every read model in one transaction, all their positions moved in one
  statement and announced in one NOTIFY (a read model that wants none of the page costs no
  statement), then hands it to the tree and each process, which write only what they have;
- isolates failures: a read model that fails on a page is left out and the page folded
  again without it, so the others go on; it stays where it was and catches up alone, as
  any follower not at the pass's position (a straggler) does, with its own pages.

Commits that land while a pass runs wake the runner once: the next pass takes them all.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

from eventsourcing.persistence import IntegrityError

from mycity.projections.catchup import Announcer, Catchup
from mycity.projections.pages import DecodeOnce
from mycity.projections.read_models import ReadModels
from mycity.projections.store import ReadModelStore
from mycity.store.sql import Cursor
from mycity.store.unavailable import log_failure

log = logging.getLogger(__name__)


class PageFollower(Protocol):
    """A follower a pass feeds besides the read models: the Merkle tree, a process."""

    @property
    def name(self) -> str: ...

    def followed(self) -> int:
        """How far it has followed the log (kept in memory: a pass asks it no query)."""

    def follow(self, page: DecodeOnce, start: int, last: int) -> None:
        """Take the page: its records after `start` (this follower's position), up to
        `last`, the position the page reaches."""

    def run_once(self) -> int:
        """Catch up on its own, reading its own pages (a straggler)."""


class LogPass:
    def __init__(
        self,
        files: Any,
        read_models: ReadModels,
        followers: Sequence[PageFollower],
        page_size: int = 1000,
    ) -> None:
        self.files = files
        self.read_models = read_models
        self.followers = followers
        self.page_size = page_size
        self.db = read_models.db
        self.announcer: Announcer = read_models.announcer
        self.tracking = read_models.db.table(ReadModelStore.TRACKING_TABLE)

    def run_once(self) -> bool:
        """One pass: every follower brought to the head; False if any of them failed."""
        head = self.files.head()
        models = self.read_models.members()
        others = [(follower, follower.followed()) for follower in self.followers]
        start = _most_at([p for _, p in models] + [p for _, p in others])
        in_step = [catchup for catchup, p in models if p == start]
        healthy = self._shared(
            start, head, in_step, [follower for follower, p in others if p == start]
        )
        for catchup, position in models:
            if position != start:
                healthy &= _alone(f"read model {catchup.name}", catchup.run_once)
        for follower, position in others:
            if position != start:
                healthy &= _alone(follower.name, follower.run_once)
        return healthy

    def _shared(
        self, start: int, head: int, models: list[Catchup], others: list[PageFollower]
    ) -> bool:
        """The pages from `start` to `head`, read once for the followers at `start`."""
        healthy = True
        position = start
        while position < head and (models or others):
            records = self.files.recorder.select_notifications(
                start=position,
                limit=self.page_size,
                stop=head,
                inclusive_of_start=False,
            )
            last = records[-1].id if len(records) == self.page_size else head
            page = DecodeOnce(self.files.mapper, records)
            if models:
                folding = len(models)
                models = self._fold(models, page, position, last)
                healthy &= len(models) == folding
            for follower in list(others):
                try:
                    follower.follow(page, position, last)
                except Exception:
                    log_failure(log, "%s could not follow a page; trying again", follower.name)
                    others.remove(follower)
                    healthy = False
            position = last
        if models:  # alive, moved or not: waiters of this process hear it
            self.announcer.advanced_all([m.name for m in models], position)
        return healthy

    def _fold(
        self, members: list[Catchup], page: DecodeOnce, start: int, last: int
    ) -> list[Catchup]:
        """Fold the page into these read models in one transaction; those that go on. One
        that fails is left out and the page folded again without it."""
        while members:
            failed: Catchup | None = None
            try:
                with self.db.transaction() as cur:
                    for catchup in members:
                        try:
                            _fold_into(catchup, cur, page, start)
                        except Exception:
                            failed = catchup
                            raise
                    self._advance(cur, members, start, last)
                    self.announcer.in_page(cur, [m.name for m in members], last)
            except Exception as e:
                if failed is None and isinstance(e, IntegrityError):
                    log.info("the read models were advanced by another runner")
                    return []
                if failed is None:
                    raise
                log_failure(log, "read model %s could not catch up; trying again", failed.name)
                members = [m for m in members if m is not failed]
                continue
            self.announcer.advanced_all([m.name for m in members], last)
            return members
        return []

    def _advance(self, cur: Cursor, members: list[Catchup], start: int, last: int) -> None:
        """Every member's position from `start` to `last`, in one statement: a
        compare-and-set, which fails if another runner moved any of them."""
        views = [m.store.view_name for m in members]
        if start == 0:  # a read model that never folded anything may have no row yet
            cur.executemany(
                f"INSERT INTO {self.tracking} (view, application_name, notification_id) "
                "VALUES (?, ?, 0) ON CONFLICT DO NOTHING",
                [(view, self.files.name) for view in views],
            )
        marks = ", ".join("?" * len(views))
        moved = cur.execute(
            f"UPDATE {self.tracking} SET notification_id = ? WHERE application_name = ? "
            f"AND notification_id = ? AND view IN ({marks})",
            (last, self.files.name, start, *views),
        ).rowcount
        if moved != len(views):
            raise IntegrityError(f"{len(views) - moved} read models are no longer at {start}")


def _fold_into(catchup: Catchup, cur: Cursor, page: DecodeOnce, start: int) -> None:
    projection = catchup.projection
    if projection.raw:
        projection.fold_rows(cur, [r for r in page.records if r.id > start], page)
    else:
        projection.fold_rows(cur, page.events(catchup.topics, start))


def _most_at(positions: list[int]) -> int:
    """The position most followers are at (the lowest of equals): the pass reads from
    there for all of them; the rest catch up alone."""
    counts = Counter(positions).most_common()
    most = counts[0][1] if counts else 0
    return min((p for p, n in counts if n == most), default=0)


def _alone(name: str, run_once: Any) -> bool:
    try:
        run_once()
    except Exception:
        log_failure(log, "%s could not catch up; trying again", name)
        return False
    return True
