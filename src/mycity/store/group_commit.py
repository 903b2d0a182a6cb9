"""Group commit: the events of concurrent commands saved in one transaction.

On PostgreSQL every save takes the events table's lock and a commit's WAL flush, so one
save per command caps writes at a few hundred per second however many requests wait. A
command hands its events to the committer and blocks; whichever command finds no save
in progress leads: it takes everything pending and saves it in one call, while the
next commands gather behind it. Alone, a command leads at once and waits for nothing.

One conflicting command (another writer took its aggregate version first) fails a whole
batch, so the others are then saved one by one and each command gets its own outcome:
its recordings, or the `IntegrityError` it would have had alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError

Save = Callable[[Sequence[Any]], Sequence[Any]]  # events in, recordings out (in order)


class _Ticket:
    __slots__ = ("error", "events", "recordings")

    def __init__(self, events: Sequence[Any]) -> None:
        self.events = events
        self.recordings: Sequence[Any] | None = None
        self.error: BaseException | None = None

    @property
    def done(self) -> bool:
        return self.recordings is not None or self.error is not None


class GroupCommit:
    def __init__(self, save: Save, max_events: int = 1000) -> None:
        self._save = save
        self.max_events = max_events
        self._pending: list[_Ticket] = []
        self._leading = False
        self._cond = threading.Condition()
        self.batches = 0  # how many saves carried how many commands: for benchmarks
        self.commands = 0

    def commit(self, events: Sequence[Any]) -> Sequence[Any]:
        """Store these events atomically, with whatever else is pending; their recordings."""
        ticket = _Ticket(events)
        with self._cond:
            self._pending.append(ticket)
            while not ticket.done:
                if self._leading:
                    self._cond.wait()
                    continue
                self._leading = True
                batch = self._take()
                self._cond.release()
                try:
                    self._commit(batch)
                finally:
                    self._cond.acquire()
                    self._leading = False
                    self._cond.notify_all()
        if ticket.error is not None:
            raise ticket.error
        assert ticket.recordings is not None
        return ticket.recordings

    def _take(self) -> list[_Ticket]:
        """The oldest pending commands, up to `max_events` events (at least one command)."""
        taken, size = 0, 0
        for ticket in self._pending:
            if taken and size + len(ticket.events) > self.max_events:
                break
            taken += 1
            size += len(ticket.events)
        batch, self._pending = self._pending[:taken], self._pending[taken:]
        return batch

    def _commit(self, batch: list[_Ticket]) -> None:
        self.batches += 1
        self.commands += len(batch)
        try:
            batch = self._refuse_clashes(batch)
            if len(batch) > 1:
                try:
                    recordings = self._save([e for t in batch for e in t.events])
                except IntegrityError:
                    pass  # someone's version was taken: find whose, one by one
                else:
                    self._hand_out(batch, recordings)
                    return
            for ticket in batch:
                try:
                    ticket.recordings = self._save(ticket.events)
                except IntegrityError as e:
                    ticket.error = e
        except BaseException as e:  # the store failed: every waiting command hears of it
            for ticket in batch:
                if not ticket.done:
                    ticket.error = e
            if not isinstance(e, Exception):
                raise

    @staticmethod
    def _refuse_clashes(batch: list[_Ticket]) -> list[_Ticket]:
        """A command that wants a version an earlier command in the batch takes loses the
        race at once, as it would in the store, without failing the batch."""
        taken: set[tuple[Any, int]] = set()
        kept = []
        for ticket in batch:
            versions = {(e.originator_id, e.originator_version) for e in ticket.events}
            if versions & taken:
                ticket.error = IntegrityError("Another command in the batch took this version")
                continue
            taken |= versions
            kept.append(ticket)
        return kept

    @staticmethod
    def _hand_out(batch: list[_Ticket], recordings: Sequence[Any]) -> None:
        offset = 0
        for ticket in batch:
            ticket.recordings = recordings[offset : offset + len(ticket.events)]
            offset += len(ticket.events)
