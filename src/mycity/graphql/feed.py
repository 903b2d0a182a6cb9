"""Live changes for subscriptions: one tail of the global log per process, fanned out by file.

The tail runs only while someone is subscribed. It polls the recorder and is woken at once
by saves in this process, so a subscriber sees its own commands without polling delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from starlette.concurrency import run_in_threadpool

log = logging.getLogger(__name__)


@strawberry.type
class FileChange:
    """One event recorded on a file: where in the log, what kind, and the file's new version."""

    position: int
    event: str
    version: int
    recorded_at: datetime


class FileFeed:
    def __init__(self, files: Any, poll_seconds: float = 0.5, page_size: int = 500) -> None:
        self.files = files
        self.poll_seconds = poll_seconds
        self.page_size = page_size
        self._queues: dict[UUID, set[asyncio.Queue[FileChange]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        files.on_saved.append(self._saved)

    def _saved(self) -> None:
        """Called from whichever thread saved: wake the tail on its own loop."""
        if self._task is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                self._task.get_loop().call_soon_threadsafe(self._wake.set)

    async def changes(self, file_id: UUID) -> AsyncIterator[FileChange]:
        queue: asyncio.Queue[FileChange] = asyncio.Queue(maxsize=1000)
        self._queues[file_id].add(queue)
        if self._task is None or self._task.done():
            # Started before anything is awaited: two subscribers arriving together must
            # not start two tails (each would deliver every change once more).
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._tail(None))
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues[file_id].discard(queue)
            if not self._queues[file_id]:
                del self._queues[file_id]

    async def _tail(self, position: int | None) -> None:
        """Follow the log from `position` (None: from its head now) while anyone listens."""
        assert self._wake is not None
        if position is None:
            position = await run_in_threadpool(self.files.head)
        while self._queues:
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
                queues = self._queues.get(notification.originator_id)
                if queues:
                    self._deliver(queues, notification)
            if len(notifications) < self.page_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                self._wake.clear()

    def _deliver(self, queues: set[asyncio.Queue[FileChange]], notification: Any) -> None:
        event = self.files.mapper.to_domain_event(notification)
        change = FileChange(
            position=notification.id,
            event=type(event).__qualname__,
            version=event.originator_version,
            recorded_at=event.timestamp,
        )
        for queue in queues:
            with contextlib.suppress(asyncio.QueueFull):  # a stalled client misses changes
                queue.put_nowait(change)
