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
        self._heard_at = time.monotonic()  # when a runner last said how far any read model got
        self._waiters: set[_Waiter] = set()
        self._lock = threading.Lock()
        self._refreshed_at = 0.0

    def advanced(self, name: str, position: int) -> None:
        """A runner says a read model's live generation includes everything up to
        `position` (it says so after every pass, moved or not: it is alive)."""
        self._heard_at = time.monotonic()
        self._advance(name, position)

    def _advance(self, name: str, position: int) -> bool:
        """Record the position; whether it moved."""
        with self._lock:
            if position <= self._known.get(name, -1):
                return False
            self._known[name] = position
            woken = [w for w in self._waiters if self._reached(w.position, w.names)]
            self._waiters.difference_update(woken)
        for waiter in woken:
            waiter.wake()
        return True

    def known(self, name: str) -> int | None:
        return self._known.get(name)

    def _reached(self, position: int, names: Iterable[str]) -> bool:
        return all(self._known.get(n, -1) >= position for n in names)

    def stalled(self, position: int, names: Iterable[str], since: float) -> list[str]:
        """The named read models behind `position`, if no runner has spoken for a while,
        counted from `since` (when the waiter began) at the earliest: a busy runner is
        waited for however long its passes take; a silent one (stopped, or none runs) is
        given up on before the time-out."""
        if time.monotonic() - max(self._heard_at, since) <= self.stall_seconds:
            return []
        return [n for n in names if self._known.get(n, -1) < position]

    def refresh(self, names: Sequence[str], *, force: bool = False) -> None:
        """Read the positions from the store, unless another waiter just did."""
        now = time.monotonic()
        if not force and now - self._refreshed_at < self.fallback:
            return
        self._refreshed_at = now
        moved = [self._advance(n, p) for n, p in self._refresh(names).items()]
        if any(moved):  # some runner, somewhere, is folding
            self._heard_at = time.monotonic()

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
