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
from collections.abc import Callable, Sequence
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
    """A follower a pass feeds besides the read models: a process."""

    @property
    def name(self) -> str: ...

    def followed(self) -> int:
        """How far it has followed the log (kept in memory: a pass asks it no query)."""

    def follow(self, page: DecodeOnce, start: int, last: int) -> None:
        """Take the page: its records after `start` (this follower's position), up to
        `last`, the position the page reaches, in transactions of its own."""

    def run_once(self) -> int:
        """Catch up on its own, reading its own pages (a straggler)."""


class SharedFollower(Protocol):
    """A follower whose tables are in the read models' database (the Merkle tree): its part
    of a page is written in the read models' transaction, one commit for all."""

    @property
    def name(self) -> str: ...

    def followed(self) -> int: ...

    def fold_in(self, cur: Cursor, page: DecodeOnce, start: int, last: int) -> Callable[[], None]:
        """Write its part of the page with `cur`; what to do once that has committed."""

    def run_once(self) -> int: ...


Member = Catchup | SharedFollower


class LogPass:
    def __init__(
        self,
        files: Any,
        read_models: ReadModels,
        shared: Sequence[SharedFollower],
        followers: Sequence[PageFollower],
        page_size: int = 1000,
    ) -> None:
        self.files = files
        self.read_models = read_models
        self.shared = shared
        self.followers = followers
        self.page_size = page_size
        self.db = read_models.db
        self.announcer: Announcer = read_models.announcer
        self.tracking = read_models.db.table(ReadModelStore.TRACKING_TABLE)

    def run_once(self) -> bool:
        """One pass: every follower brought to the head; False if any of them failed."""
        head = self.files.head()
        models: list[tuple[Any, int]] = list(self.read_models.members())
        shared = [(f, f.followed()) for f in self.shared]
        others = [(f, f.followed()) for f in self.followers]
        start = _most_at([p for _, p in models + shared + others])
        healthy = self._shared(
            start,
            head,
            [m for m, p in models + shared if p == start],
            [f for f, p in others if p == start],
        )
        for follower, position in models + shared + others:
            if position != start:
                healthy &= _alone(follower)
        return healthy

    def _shared(
        self, start: int, head: int, members: list[Member], others: list[PageFollower]
    ) -> bool:
        """The pages from `start` to `head`, read once for the followers at `start`."""
        healthy = True
        position = start
        while position < head and (members or others):
            records = self.files.recorder.select_notifications(
                start=position,
                limit=self.page_size,
                stop=head,
                inclusive_of_start=False,
            )
            last = records[-1].id if len(records) == self.page_size else head
            page = DecodeOnce(self.files.mapper, records)
            if members:
                folding = len(members)
                members = self._fold(members, page, position, last)
                healthy &= len(members) == folding
            for follower in list(others):
                try:
                    follower.follow(page, position, last)
                except Exception:
                    log_failure(log, "%s could not follow a page; trying again", follower.name)
                    others.remove(follower)
                    healthy = False
            position = last
        models = [m.name for m in members if isinstance(m, Catchup)]
        if models and position == start:  # nothing new: still alive, as waiters must hear
            self.announcer.advanced_all(models, position)
        return healthy

    def _fold(self, members: list[Member], page: DecodeOnce, start: int, last: int) -> list[Member]:
        """Fold the page into these followers in one transaction; those that go on. One that
        fails is left out and the page folded again without it."""
        while members:
            failed: Member | None = None
            done: list[Callable[[], None]] = []
            models = [m for m in members if isinstance(m, Catchup)]
            try:
                with self.db.transaction() as cur:
                    if cur.dialect == "postgres":  # derived from the log: a crash refolds
                        cur.execute("SET LOCAL synchronous_commit TO OFF")
                    for member in members:
                        try:
                            done.append(_fold_into(member, cur, page, start, last))
                        except Exception:
                            failed = member
                            raise
                    if models:
                        self._advance(cur, models, start, last)
                        self.announcer.in_page(cur, [m.name for m in models], last)
            except Exception as e:
                if failed is None and isinstance(e, IntegrityError):
                    log.info("the log's followers were advanced by another runner")
                    return []
                if failed is None:
                    raise
                log_failure(log, "%s could not catch up; trying again", _named(failed))
                members = [m for m in members if m is not failed]
                continue
            for then in done:
                then()
            self.announcer.advanced_all([m.name for m in models], last)
            return members
        return []

    def _advance(self, cur: Cursor, members: list[Catchup], start: int, last: int) -> None:
        """Every read model's position from `start` to `last`, in one statement: a
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


def _named(member: Member) -> str:
    return f"read model {member.name}" if isinstance(member, Catchup) else member.name


def _fold_into(
    member: Member, cur: Cursor, page: DecodeOnce, start: int, last: int
) -> Callable[[], None]:
    if not isinstance(member, Catchup):
        return member.fold_in(cur, page, start, last)
    projection = member.projection
    if projection.raw:
        projection.fold_rows(cur, [r for r in page.records if r.id > start], page)
    else:
        projection.fold_rows(cur, page.events(member.topics, start))
    return lambda: None


def _most_at(positions: list[int]) -> int:
    """The position most followers are at (the lowest of equals): the pass reads from
    there for all of them; the rest catch up alone."""
    counts = Counter(positions).most_common()
    most = counts[0][1] if counts else 0
    return min((p for p, n in counts if n == most), default=0)


def _alone(follower: Any) -> bool:
    """A follower not at the pass's position, catching up on its own pages."""
    try:
        follower.run_once()
    except Exception:
        log_failure(log, "%s could not catch up; trying again", _named(follower))
        return False
    return True
