"""Sending text messages. The local sender keeps an outbox file the demo and tests can read."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from mycity.private import append_private


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
        with self._lock:
            append_private(self.path, line + "\n")

    def messages(self, phone: str | None = None) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        found = [json.loads(line) for line in self.path.read_text().splitlines() if line]
        return [m for m in found if phone is None or m["to"] == phone]
