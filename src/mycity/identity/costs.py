"""Expensive work a caller may ask for: a budget per request and a rate per caller.

Drawing a QR code is the dearest thing an answer can hold (pure Python, 40 to 100 ms of a
core). Unbounded, 15 aliased `presentLicence(png: true)` in one request took 1.3 to 1.8 s of
CPU, and 48 such requests at once made everyone else's answers a hundred times slower. So a
request may draw at most `PER_REQUEST` codes, and a caller at most `PER_CALLER` in
`WINDOW` seconds, counted in the store, so that every server process shares the count.
"""

from __future__ import annotations

import time

from mycity.domain.errors import ErrorCode, Throttled, UserError
from mycity.identity.budgets import Budgets, seconds_until

PER_REQUEST = 3  # QR codes drawn in one request
PER_CALLER = 30  # QR codes drawn for one caller...
WINDOW = 60.0  # ...in this many seconds


class Costs:
    def __init__(
        self,
        budgets: Budgets,
        per_request: int = PER_REQUEST,
        per_caller: int = PER_CALLER,
        window: float = WINDOW,
    ) -> None:
        self.budgets = budgets
        self.per_request = per_request
        self.per_caller = per_caller
        self.window = window

    def charge(self, caller: str, drawn: int) -> None:
        """Count `drawn` QR codes against the request's budget and the caller's rate, or
        refuse the request whole (nothing is counted for a refused one)."""
        if drawn > self.per_request:
            raise UserError(
                ErrorCode.TOO_COSTLY,
                f"A request may draw at most {self.per_request} QR codes (png: true); "
                f"this one asks for {drawn}",
            )
        now = time.time()
        with self.budgets.db.transaction() as cur:
            spent, ends = self.budgets.spend(cur, f"drawn:{caller}", self.window, now, drawn)
            if spent > self.per_caller:
                raise Throttled(
                    ErrorCode.RATE_LIMITED,
                    f"At most {self.per_caller} QR codes are drawn for one caller in "
                    f"{self.window:.0f} s: ask without png, or try again later",
                    None,
                    seconds_until(ends, now),
                )
