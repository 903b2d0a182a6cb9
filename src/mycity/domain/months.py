"""Calendar months: a period of months from a day ends on the same day of the month, or on
the month's last day when it has no such day (31 January + 1 month: 28 or 29 February)."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
