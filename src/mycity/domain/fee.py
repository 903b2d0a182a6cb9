"""An application's fee: which payment pays it.

Its id comes from the application, so there is one a fee; a payment of it is started only
when no other is pending or paid (a failed one may be followed by another), and starting
one is recorded with the payment in one transaction: a fee is never paid twice, even by
two devices at once.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mycity.domain.personal import not_personal


def fee_id(application: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"mycity:fee:{application}")


class Fee(Aggregate):
    id: UUID

    @not_personal("application", "payment")
    class Started(Aggregate.Created):
        application: UUID
        payment: UUID

    @not_personal("payment")
    class Restarted(Aggregate.Event):
        payment: UUID  # after the one before failed

    @event(Started)
    def __init__(self, application: UUID, payment: UUID) -> None:
        self.application = application
        self.payment = payment

    def restart(self, *, payment: UUID) -> None:
        self._restarted(payment=payment)

    @event(Restarted)
    def _restarted(self, payment: UUID) -> None:
        self.payment = payment
