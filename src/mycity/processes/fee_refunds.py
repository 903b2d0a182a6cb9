"""A fee is given back in full when its application ends without a decision for it: on
`Application.Withdrawn` or `Application.Rejected`, or when a fee's payment succeeds after
its application had already ended. The refund is reserved on the payment here (with the
process's position, once); the payment sweep asks the provider for it."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.application import Application
from mycity.domain.application_status import Status
from mycity.domain.fee import Fee, fee_id
from mycity.domain.money import fingerprint
from mycity.domain.payment import Payment, PaymentKind, PaymentStatus, refund_id
from mycity.processes.tracked import Process, Reply

BY = "city"  # the refunds this process requests, as `requested_by`
ENDED = frozenset({Status.WITHDRAWN, Status.REJECTED})


class FeeRefunds(Process):
    name = "fee refunds"

    @singledispatchmethod
    def policy(self, event: Any, reply: Reply) -> None:
        pass

    @policy.register
    def _(self, event: Application.Withdrawn, reply: Reply) -> None:
        self._refund(reply, event, "application withdrawn")

    @policy.register
    def _(self, event: Application.Rejected, reply: Reply) -> None:
        self._refund(reply, event, "application rejected")

    @policy.register
    def _(self, event: Payment.Succeeded, reply: Reply) -> None:
        if event.kind != PaymentKind.FEE:
            return
        payment = reply.get(Payment, event.originator_id)
        application = reply.get(Application, UUID(payment.paying_for))
        if application.status in ENDED:
            self._refund(reply, event, f"application {application.status.lower()}", application)

    def _refund(
        self, reply: Reply, event: Any, reason: str, application: Application | None = None
    ) -> None:
        application = application or reply.get(Application, event.originator_id)
        fee = reply.find(fee_id(application.id))
        if not isinstance(fee, Fee):
            return
        payment = reply.get(Payment, fee.payment)
        if payment.status is not PaymentStatus.SUCCEEDED or payment.refundable_fen == 0:
            return
        refund = refund_id(payment.id, BY, "fee-closed")
        if refund in payment.refunds:
            return
        payment.request_refund(
            refund,
            payment.refundable_fen,
            reason,
            fingerprint(kind="FEE_REFUND", application=str(application.id)),
            BY,
            event.timestamp.isoformat(timespec="seconds"),
        )
        reply.save(payment)
