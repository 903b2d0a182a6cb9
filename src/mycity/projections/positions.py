"""Read-your-writes: how far each read model has folded the log, and waiting for it.

A command answers with the position of its last event; the payload then reads some read
models, and must see that event in them. Waiters sleep here until the runner says that
the read models they read have reached the position: the runner in this process says so
right after each committed page, runners in other processes through PostgreSQL's
LISTEN/NOTIFY (see `listener.py`). Only if neither speaks for a while (`fallback`: a
lost notification, SQLite shared by several processes) does one waiter read the positions
from the store, for all of them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence

Refresh = Callable[[Sequence[str]], dict[str, int]]


class _Waiter:
    __slots__ = ("names", "position", "wake")

    def __init__(self, position: int, names: Sequence[str], wake: Callable[[], None]) -> None:
        self.position = position
        self.names = names
        self.wake = wake


class Positions:
    def __init__(self, refresh: Refresh, fallback: float, stall_seconds: float = 2.0) -> None:
        self._refresh = refresh
        self.fallback = fallback
        self.stall_seconds = stall_seconds
        self._known: dict[str, int] = {}
        self._moved_at: dict[str, float] = {}  # when each last advanced (or was first seen)
        self._waiters: set[_Waiter] = set()
        self._lock = threading.Lock()
        self._refreshed_at = 0.0

    def advanced(self, name: str, position: int) -> None:
        """A read model's live generation now includes everything up to `position`."""
        with self._lock:
            self._moved_at.setdefault(name, time.monotonic())
            if position <= self._known.get(name, -1):
                return
            self._known[name] = position
            self._moved_at[name] = time.monotonic()
            woken = [w for w in self._waiters if self._reached(w.position, w.names)]
            self._waiters.difference_update(woken)
        for waiter in woken:
            waiter.wake()

    def known(self, name: str) -> int | None:
        return self._known.get(name)

    def _reached(self, position: int, names: Iterable[str]) -> bool:
        return all(self._known.get(n, -1) >= position for n in names)

    def stalled(self, position: int, names: Iterable[str], since: float) -> list[str]:
        """The named read models behind `position` that have not moved for a while, counted
        from `since` (when the waiter began) at the earliest: a read model idle before a
        write is not stalled, only one that does not follow it."""
        now = time.monotonic()
        return [
            n
            for n in names
            if self._known.get(n, -1) < position
            and now - max(self._moved_at.get(n, now), since) > self.stall_seconds
        ]

    def refresh(self, names: Sequence[str], *, force: bool = False) -> None:
        """Read the positions from the store, unless another waiter just did."""
        now = time.monotonic()
        if not force and now - self._refreshed_at < self.fallback:
            return
        self._refreshed_at = now
        for name, position in self._refresh(names).items():
            self.advanced(name, position)

    def _register(self, position: int, names: Sequence[str], wake: Callable[[], None]) -> _Waiter:
        waiter = _Waiter(position, names, wake)
        with self._lock:
            if self._reached(position, names):
                wake()
            else:
                self._waiters.add(waiter)
        return waiter

    def _forget(self, waiter: _Waiter) -> None:
        with self._lock:
            self._waiters.discard(waiter)

    def wait(self, position: int, names: Sequence[str], timeout: float) -> bool:
        """Block until every named read model includes `position`; False on time-out."""
        if any(n not in self._known for n in names):
            self.refresh(names, force=True)
        woken = threading.Event()
        waiter = self._register(position, names, woken.set)
        started = time.monotonic()
        deadline = started + timeout
        try:
            while not woken.wait(min(self.fallback, max(deadline - time.monotonic(), 0))):
                if time.monotonic() >= deadline:
                    return False
                self.refresh(names)
                if not woken.is_set() and self.stalled(position, names, started):
                    return False
            return True
        finally:
            self._forget(waiter)

    async def reached(
        self,
        position: int,
        names: Sequence[str],
        timeout: float,
        *,
        blocking: Callable[..., Awaitable[object]],
    ) -> bool:
        """`wait` for the event loop: no thread is held while waiting. `blocking` runs a
        store call off the loop (for the first and the fallback reads)."""
        if any(n not in self._known for n in names):
            await blocking(self.refresh, names, force=True)
        loop = asyncio.get_running_loop()
        woken = loop.create_future()

        def resolve() -> None:
            if not woken.done():
                woken.set_result(None)

        def wake() -> None:
            loop.call_soon_threadsafe(resolve)

        waiter = self._register(position, names, wake)
        started = time.monotonic()
        deadline = loop.time() + timeout
        try:
            while True:
                try:
                    left = max(deadline - loop.time(), 0)
                    await asyncio.wait_for(asyncio.shield(woken), min(self.fallback, left))
                    return True
                except TimeoutError:
                    if loop.time() >= deadline:
                        return False
                    await blocking(self.refresh, names)
                    if self._reached(position, names):
                        return True
                    if self.stalled(position, names, started):
                        return False
        finally:
            self._forget(waiter)
