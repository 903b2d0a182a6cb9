"""PostgreSQL's LISTEN/NOTIFY, heard by one connection per process.

Two channels: eventsourcing's own, notified by every insert of events (a runner in this
process wakes and folds them at once, whoever saved them), and the read models' one,
notified by every page a runner commits (waiters in this process wake at once, whichever
process ran the runner).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from psycopg.sql import SQL, Identifier

from mycity.store.unavailable import log_failure

log = logging.getLogger(__name__)


class Listener:
    def __init__(
        self,
        app: Any,
        on_events: Callable[[], None],
        on_position: Callable[[str, int], None],
        positions_channel: str,
    ) -> None:
        self.app = app
        self.positions_channel = positions_channel
        self.on_events = on_events
        self.on_position = on_position
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._listen, daemon=True, name="listen")
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _listen(self) -> None:
        events = self.app.recorder.channel_name
        while not self._stop.is_set():
            try:
                with self.app.recorder.datastore.get_connection() as conn:
                    for channel in (events, self.positions_channel):
                        conn.execute(SQL("LISTEN {0}").format(Identifier(channel)))
                    while not self._stop.is_set():
                        for notify in conn.notifies(timeout=0.5):
                            if notify.channel == events:
                                self.on_events()
                            else:
                                self._position(notify.payload)
            except Exception:
                log_failure(log, "LISTEN failed; listening again in 1 s")
                self._stop.wait(1.0)

    def _position(self, payload: str) -> None:
        """`<position> <name> …` (a runner's page for many read models); a runner of
        earlier code says `<name> <position>`, one read model at a time."""
        words = payload.split()
        if len(words) < 2:
            return
        if words[0].isdigit():
            for name in words[1:]:
                self.on_position(name, int(words[0]))
        elif words[1].isdigit():
            self.on_position(words[0], int(words[1]))
