"""A tracked process: it follows the log and records its answers with its position.

A `Process` defines `policy(event, reply)`, registered per event class like a read
model's `apply`; those classes are the topics it follows. For a page of events it loads
and changes aggregates through the `Reply`, and the page's new events are saved together
with the position of the page's last event, in one transaction (eventsourcing's process
recorder, with its tracking table). So after a crash the page is answered again from the
start, and never twice: a page whose start another runner has moved past is refused, and
one that lost a race with a command on an aggregate is answered again on fresh state.

A policy must be deterministic in the events it is given and the state it loads: it may
run again after a crash or a lost race, and only its last run is saved. A refusal it can
foresee (an application that cannot be licensed) is an event it records, not an
exception: an exception stops the process at that page until the cause is fixed.
"""

from __future__ import annotations

import contextlib
import logging
from functools import singledispatchmethod
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import get_topic

from mycity.projections.pages import DecodeOnce, read_pages
from mycity.store.files import CityFiles

log = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)


class Reply:
    """What a process changes while it answers one page, saved at once with its position."""

    def __init__(self, files: CityFiles, tracking: Tracking, start: int) -> None:
        self.files = files
        self.position = 0  # the position in the log of the event being answered
        self.processing: ProcessingEvent[UUID] = ProcessingEvent(tracking)
        self.processing.saved_kwargs["tracked_from"] = start  # see store/recorders.py

    def get(self, kind: type[A], aggregate_id: UUID) -> A:
        """The aggregate as this page has changed it so far, else as stored."""
        changed = self.processing.aggregates.get(aggregate_id)
        if isinstance(changed, kind):
            return changed
        return self.files.get(kind, aggregate_id)

    def find(self, aggregate_id: UUID) -> Aggregate | None:
        changed = self.processing.aggregates.get(aggregate_id)
        return changed if changed is not None else self.files.find(aggregate_id)  # type: ignore[return-value]

    def save(self, *aggregates: Aggregate) -> None:
        self.processing.collect_events(*aggregates)


class Process:
    name: ClassVar[str]
    topics: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        registry = cls.__dict__["policy"].dispatcher.registry
        cls.topics = tuple(get_topic(c) for c in registry if c is not object)

    @singledispatchmethod
    def policy(self, event: Any, reply: Reply) -> None:
        """Answer one event; register an implementation per event class."""

    def follows(self) -> tuple[str, ...]:
        """The topics it reads: those it registers, or fewer if its configuration wants
        fewer (the credit rules name only some of the events the process could score)."""
        return self.topics


class ProcessRunner:
    """Feeds one process from the log, a page per transaction."""

    def __init__(
        self,
        files: CityFiles,
        process: Process,
        page_size: int = 100,
        tries: int = 3,
        idle_stretch: int = 10_000,
    ) -> None:
        self.files = files
        self.process = process
        self.page_size = page_size
        self.tries = tries
        self.idle_stretch = idle_stretch
        self._scanned = 0  # how far the log is known to hold nothing more for it
        self._tracked: int | None = None  # its recorded position, as this runner knows it
        self.topics = frozenset(process.follows())

    @property
    def name(self) -> str:
        return self.process.name

    def setup(self) -> None:
        """Track from the start of the log: a row to compare-and-set from."""
        if self.files.recorder.max_tracking_id(self.name) is None:
            with contextlib.suppress(IntegrityError):  # another runner did it first
                self.files.recorder.insert_tracking(Tracking(self.name, 0))

    def position(self) -> int:
        return self.files.recorder.max_tracking_id(self.name) or 0

    def followed(self) -> int:
        """How far this runner has followed the log for the process: its recorded position
        (read from the store only at first; a stale one is refused when it records) or the
        end of the stretch it has found nothing in since."""
        if self._tracked is None:
            self._tracked = self.position()
        return max(self._tracked, self._scanned)

    def follow(self, page: Any, start: int, last: int) -> None:
        """Answer the page's events of the process's topics after `start`, up to `last`."""
        if start != self.followed():
            raise IntegrityError(f"{self.name} is not at position {start}")
        if not self._take(page.positioned(self.topics, start), last):
            raise IntegrityError(f"{self.name} was advanced by another runner")

    def run_once(self) -> int:
        """Answer everything recorded so far, reading its own pages; returns the number of
        events answered."""
        self._tracked = self.position()
        start = self.followed()
        head = self.files.head()
        answered = 0
        if start >= head:
            return 0
        with read_pages(
            self.files, start, head, topics=tuple(self.topics), raw=True, page_size=self.page_size
        ) as pages:
            for page in pages:
                events = DecodeOnce(self.files.mapper, page.items).positioned(self.topics)
                if not self._take(events, page.last):
                    break
                answered += len(events)
        return answered

    def _take(self, events: list[tuple[int, Any]], last: int) -> bool:
        """Answer these events and record the position `last`; False if another runner
        had answered them already.

        A stretch of the log with nothing for this process, or only events it answers with
        nothing, is skipped without a write (the log's ids become visible in order, so
        nothing can appear in it later); its position is recorded only once the stretch is
        `idle_stretch` long, to bound the re-reading after a restart."""
        tracked = self._tracked or 0
        answered = self._answer(events, last, tracked)
        if answered is None:  # nothing to record, and not yet far enough to record it
            self._scanned = last
            return True
        if not answered:
            log.info("%s was advanced by another runner", self.name)
            self._tracked = None  # read again next time
            return False
        self._tracked = self._scanned = last
        return True

    def _answer(self, events: list[tuple[int, Any]], last: int, start: int) -> bool | None:
        """Answer a page and save it; False if another runner had already. A page whose
        answer is no event is not saved (None) until its stretch is `idle_stretch` long:
        answered again after a restart, it answers nothing again (a policy is deterministic),
        so a process that wants an event only now and then (credit's rules, a fee's refund)
        costs no write for each one it passes over."""
        for _ in range(self.tries):
            reply = Reply(self.files, Tracking(self.name, last), start)
            for position, event in events:
                reply.position = position
                self.process.policy(event, reply)
            if not reply.processing.events and last - start < self.idle_stretch:
                return None
            try:
                self.files.record(reply.processing)
                return True
            except IntegrityError:
                if self.position() != start:
                    return False
        raise IntegrityError(f"{self.name}: the page after {start} kept losing races")
