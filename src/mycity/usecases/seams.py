"""What applications will ask capabilities that come later, each behind a small interface.

Credit (信用分) will say whose tier allows accepting an application with a material
missing (容缺受理); until it exists nobody's does. Payments will say whether an
application's fee is paid; until they exist a fee is paid at the counter, so an officer
completing the application is taken to have received it.
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


class NoCreditYet:
    def allows_shortfall(self, subject: UUID) -> bool:
        return False


class PaidAtCounter:
    def is_paid(self, application_id: UUID, fee_fen: int) -> bool:
        return True
