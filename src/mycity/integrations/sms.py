"""Sending text messages. The local sender keeps an outbox file the demo and tests can read."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class OutboxSms:
    """Appends each message as one JSON line; safe across threads and processes (O_APPEND)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, phone: str, text: str) -> None:
        line = json.dumps(
            {"to": phone, "text": text, "at": datetime.now(UTC).isoformat()}, ensure_ascii=False
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)

    def messages(self, phone: str | None = None) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        found = [json.loads(line) for line in self.path.read_text().splitlines() if line]
        return [m for m in found if phone is None or m["to"] == phone]
