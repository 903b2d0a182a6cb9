"""The city's clock: what time it is, and which day in the city's time zone.

One object, handed out as bound methods by the composition root, so that every due date,
validity and freshness is judged by the same clock, and a test can move it forward.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass
class Clock:
    timezone: str = "Asia/Shanghai"
    ahead: timedelta = timedelta()  # moved forward (tests, rehearsals); zero in service
    stopped_at: datetime | None = None  # held at one moment (a test at a boundary); None in service

    def now(self) -> float:
        """Unix seconds."""
        if self.stopped_at is not None:
            return self.stopped_at.timestamp()
        return time.time() + self.ahead.total_seconds()

    def today(self) -> date:
        return datetime.fromtimestamp(self.now(), ZoneInfo(self.timezone)).date()

    def utc_today(self) -> date:
        """The date in UTC: what events are dated by (their timestamps are UTC)."""
        return datetime.fromtimestamp(self.now(), UTC).date()
