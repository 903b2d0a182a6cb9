"""What applications and transit ask other capabilities, each behind a small interface.

Credit (信用分, `usecases/credit_standing.py`) says whose tier allows accepting an
application with a material missing (容缺受理), who may ride now and pay later (先乘后付),
and whom a library lends to without a deposit. Payments say whether an application's fee is
paid (`usecases/fees.py`); where no payment provider is set a fee is paid at the counter, so
an officer completing the application is taken to have received it.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID


class CreditTiers(Protocol):
    def allows_shortfall(self, subject: UUID) -> bool:
        """Whether this citizen's or enterprise's credit allows 容缺受理."""
        ...


class Fees(Protocol):
    def is_paid(self, application_id: UUID, fee_fen: int) -> bool: ...


class PayLater(Protocol):
    def may_ride_now_pay_later(self, rider: UUID) -> bool:
        """Whether this rider's fares go on the day's bill instead of being paid at the gate."""
        ...


class LibraryDeposits(Protocol):
    def deposit_free(self, citizen: UUID) -> bool:
        """Whether a library lends to this citizen without a deposit (免押金借阅)."""
        ...


class PaidAtCounter:
    def is_paid(self, application_id: UUID, fee_fen: int) -> bool:
        return True
