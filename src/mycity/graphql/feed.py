"""Live changes for subscriptions: one tail of the global log per process, fanned out by file.

The tail runs only while someone is subscribed. It polls the recorder and is woken at once
by saves in this process, so a subscriber sees its own commands without polling delay.
A subscriber hears its own file's changes, or those of files kept on its behalf (its
applications): `parties` says whose behalf a file is kept on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry import relay

log = logging.getLogger(__name__)


@strawberry.type
class FileChange:
    """One event recorded on a file: where in the log, what kind, and the file's new version."""

    position: int
    event: str
    version: int
    recorded_at: datetime
    file_id: relay.GlobalID = strawberry.field(description="The file the event is on.")


Queues = dict[UUID, set[asyncio.Queue[FileChange]]]


class FileFeed:
    def __init__(
        self,
        files: Any,
        parties: Callable[[UUID], Sequence[UUID]] = lambda file_id: (),
        poll_seconds: float = 0.5,
        page_size: int = 500,
    ) -> None:
        self.files = files
        self.parties = parties  # whose behalf a file is kept on (an application's applicants)
        self.poll_seconds = poll_seconds
        self.page_size = page_size
        self._queues: Queues = defaultdict(set)
        self._behalf: Queues = defaultdict(set)
        self._parties: dict[UUID, Sequence[UUID]] = {}  # they never change
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        files.on_saved.append(self._saved)

    def _saved(self) -> None:
        """Called from whichever thread saved: wake the tail on its own loop."""
        if self._task is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                self._task.get_loop().call_soon_threadsafe(self._wake.set)

    def changes(self, file_id: UUID) -> AsyncIterator[FileChange]:
        return self._subscribe(self._queues, file_id)

    def on_behalf_of(self, subject: UUID) -> AsyncIterator[FileChange]:
        """Changes of the files kept on the subject's behalf."""
        return self._subscribe(self._behalf, subject)

    async def _subscribe(self, registry: Queues, key: UUID) -> AsyncIterator[FileChange]:
        queue: asyncio.Queue[FileChange] = asyncio.Queue(maxsize=1000)
        registry[key].add(queue)
        if self._task is None or self._task.done():
            # Started before anything is awaited: two subscribers arriving together must
            # not start two tails (each would deliver every change once more).
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._tail(None))
        try:
            while True:
                yield await queue.get()
        finally:
            registry[key].discard(queue)
            if not registry[key]:
                del registry[key]

    async def _tail(self, position: int | None) -> None:
        """Follow the log from `position` (None: from its head now) while anyone listens."""
        assert self._wake is not None
        if position is None:
            position = await run_in_threadpool(self.files.head)
        while self._queues or self._behalf:
            try:
                notifications = await run_in_threadpool(
                    self.files.recorder.select_notifications,
                    start=position,
                    limit=self.page_size,
                    inclusive_of_start=False,
                )
            except Exception:
                log.exception("Reading the log for subscriptions failed; retrying")
                await asyncio.sleep(self.poll_seconds)
                continue
            for notification in notifications:
                position = notification.id
                queues = set(self._queues.get(notification.originator_id, ()))
                if self._behalf:
                    for party in await self._parties_of(notification.originator_id):
                        queues |= self._behalf.get(party, set())
                if queues:
                    self._deliver(queues, notification)
            if len(notifications) < self.page_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                self._wake.clear()

    async def _parties_of(self, file_id: UUID) -> Sequence[UUID]:
        if file_id not in self._parties:
            self._parties[file_id] = await run_in_threadpool(self.parties, file_id)
            if len(self._parties) > 100_000:
                self._parties.clear()
        return self._parties[file_id]

    def _deliver(self, queues: set[asyncio.Queue[FileChange]], notification: Any) -> None:
        event = self.files.mapper.to_domain_event(notification)
        kind = type(event).__qualname__
        change = FileChange(
            position=notification.id,
            event=kind,
            version=event.originator_version,
            recorded_at=event.timestamp,
            file_id=relay.GlobalID(kind.split(".")[0], str(event.originator_id)),
        )
        for queue in queues:
            with contextlib.suppress(asyncio.QueueFull):  # a stalled client misses changes
                queue.put_nowait(change)
