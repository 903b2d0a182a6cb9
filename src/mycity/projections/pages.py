"""Reading the global log in pages, one page ahead of whoever folds them.

Everything that follows the log (read models, processes) reads it here: pages of up to
`page_size` records after a position, up to a head, filtered by topic, decoded into
domain events or left as stored. A thread reads the next page while the caller folds the
current one; it is stopped and joined when the caller stops iterating, however it stops.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mycity.domain.personal import Retention

# Up to a limit of records after a position, up to a head, of these topics.
Select = Callable[[int, int, int, Sequence[str]], Sequence[Any]]


@dataclass(frozen=True)
class Page:
    items: list[Any]  # domain events, or stored notifications for raw readers
    last: int  # the position this page reaches, even if none of its records matched


@contextmanager
def read_pages(
    app: Any,
    start: int,
    head: int,
    *,
    topics: Sequence[str] = (),
    raw: bool = False,
    page_size: int = 1000,
    select: Select | None = None,
    opens: frozenset[Retention] | None = None,
) -> Iterator[Iterator[Page]]:
    """The pages after `start` up to `head`; the reader thread ends with the block.
    `select` reads a page of records instead of the recorder (a shard's, filtered);
    `opens` names the retention classes of personal fields to open (None: all)."""
    pending: queue.Queue[Page | BaseException | None] = queue.Queue(maxsize=2)
    abandoned = threading.Event()

    def hand_over(item: Page | BaseException | None) -> None:
        while not abandoned.is_set():
            try:
                pending.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def read() -> None:
        position = start
        try:
            while position < head and not abandoned.is_set():
                if select is None:
                    notifications = app.recorder.select_notifications(
                        start=position,
                        limit=page_size,
                        stop=head,
                        topics=topics,
                        inclusive_of_start=False,
                    )
                else:
                    notifications = select(position, page_size, head, topics)
                if not raw:
                    app.mapper.prefetch(notifications, opens)  # the page's people's keys
                items = (
                    notifications if raw else [app.mapper.decode(n, opens) for n in notifications]
                )
                full = len(notifications) == page_size
                position = notifications[-1].id if full else head
                hand_over(Page(list(items), position))
        except BaseException as e:  # handed to the consumer, which re-raises it
            hand_over(e)
        else:
            hand_over(None)

    def consume() -> Iterator[Page]:
        while (page := pending.get()) is not None:
            if isinstance(page, BaseException):
                raise page
            yield page

    reader = threading.Thread(target=read, daemon=True, name="log-pages")
    reader.start()
    try:
        yield consume()
    finally:
        abandoned.set()
        reader.join()


class DecodeOnce:
    """A page of the log decoded once, whichever of its followers asks first: decoding
    (decrypting, opening sealed fields) costs more than anything a follower then does with
    an event. It lives as long as its page: an erasure in a later page must not find a
    person's fields decoded before it."""

    def __init__(self, mapper: Any, records: Sequence[Any]) -> None:
        self.mapper = mapper
        self.records = records
        self._decoded: dict[int, Any] = {}
        self._prefetched = False

    def prefetch(self, records: Sequence[Any]) -> None:
        """The keys of the people the page names, in one query, once."""
        if not self._prefetched:
            self._prefetched = True
            self.mapper.prefetch(self.records)

    def to_domain_event(self, record: Any) -> Any:
        event = self._decoded.get(record.id)
        if event is None:
            event = self._decoded[record.id] = self.mapper.to_domain_event(record)
        return event

    def events(self, topics: frozenset[str], after: int = 0) -> list[Any]:
        """The page's events of these topics after a position, decoded."""
        return [event for _, event in self.positioned(topics, after)]

    def positioned(self, topics: frozenset[str], after: int = 0) -> list[tuple[int, Any]]:
        """The same, each with its position in the log (what a process cites as evidence)."""
        wanted = [r for r in self.records if r.id > after and r.topic in topics]
        if wanted:
            self.prefetch(wanted)
        return [(r.id, self.to_domain_event(r)) for r in wanted]
