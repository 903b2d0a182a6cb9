"""The `Fees` seam answered from payments: a fee is paid when the payment its `Fee` names
succeeded and none of it was given back."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from mycity.domain.fee import Fee, fee_id
from mycity.domain.payment import Payment, PaymentStatus
from mycity.store.files import CityFiles


@dataclass(frozen=True)
class PaidFees:
    files: CityFiles

    def is_paid(self, application_id: UUID, fee_fen: int) -> bool:
        if fee_fen == 0:
            return True
        fee = self.files.find(fee_id(application_id))
        if not isinstance(fee, Fee):
            return False
        payment = self.files.read(Payment, fee.payment)
        return payment.status is PaymentStatus.SUCCEEDED and payment.refunded_fen == 0
