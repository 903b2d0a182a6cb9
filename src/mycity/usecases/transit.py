"""Transit fares at the gate: a gate's scan of a city code for `TRANSIT` charges the
operator's fare (`data/fares`), flat or by distance, within the rider's daily cap.

The rider's day (`Fare`) and the payment of each ride paid at the gate are recorded in the
scan's own transaction, so the gate's answer, the ride and its charge stand or fall
together; the provider is asked after the commit, like any payment (`Payments.charge`). A
rider whom credit lets ride now and pay later (the `PayLater` seam) has the day's fares put
on one bill, charged by the nightly `FareBilling`. A gate the fares do not name, or a city
that takes no payments, only scans as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate

from mycity.domain.fare import OPEN_RIDE_HOURS, Fare, Ride, fare_day_id, ride_payment_id
from mycity.domain.fares import FareRules, Gate, Operator
from mycity.domain.money import fingerprint
from mycity.domain.payment import Payment, PaymentKind, PaymentStatus
from mycity.identity.principal import Principal
from mycity.policy import scans as scan_policy
from mycity.store.files import CityFiles
from mycity.usecases.payments import Payments
from mycity.usecases.scans import ScanAnswer, Scans
from mycity.usecases.seams import PayLater
from mycity.verifier.city_code import Purpose


@dataclass(frozen=True)
class FareAnswer:
    """A ride the tap ended, as the gate is told of it: no rider."""

    ride: int
    fare_fen: int
    charged_fen: int  # after the daily cap
    status: str  # PAID, PENDING, FAILED (at the gate); DEFERRED (on the day's bill); CAPPED
    payment: UUID | None


@dataclass
class Transit:
    files: CityFiles
    scans: Scans
    payments: Payments
    rules: FareRules
    pay_later: PayLater
    timezone: str
    clock: Callable[[], float]

    def tap(
        self, actor: Principal | None, payload: str, place: str
    ) -> tuple[ScanAnswer, list[FareAnswer]]:
        """A gate scans a rider's code; the rides the tap ended, each charged."""
        gate = scan_policy.scanner(actor, Purpose.TRANSIT)
        found = self.rules.gate(gate.subject)
        if found is None or not self.payments.taken:
            return self.scans.scan(gate, payload, Purpose.TRANSIT, place), []
        operator, station = found
        ended: list[tuple[Ride, Payment | None]] = []

        def ride(rider: UUID, told: scan_policy.Told) -> list[Aggregate]:
            ended.clear()
            if not told.allowed:
                return []
            fare = self._day_of(rider, operator)
            deferred = self.pay_later.may_ride_now_pay_later(rider)
            rides = fare.tap(operator, station, self._at(), deferred)
            ended.extend((r, self._payment(fare, operator, station, r, gate)) for r in rides)
            return [fare, *(p for _, p in ended if p is not None)]

        answer = self.scans.scan(gate, payload, Purpose.TRANSIT, place, ride)
        if not answer.ok:
            return answer, []
        fares = [self._charged(r, p) for r, p in ended]
        return answer, fares

    def _day_of(self, rider: UUID, operator: Operator) -> Fare:
        """The rider's day with the operator; yesterday's while a ride begun then is open
        (a ride counts on the day it began)."""
        now = datetime.fromtimestamp(self.clock(), ZoneInfo(self.timezone))
        yesterday = self.files.find(fare_day_id(rider, operator.code, _day(now, -1)))
        if isinstance(yesterday, Fare) and yesterday.open_gate and yesterday.opened_at:
            opened = datetime.fromisoformat(yesterday.opened_at)
            if now - opened <= timedelta(hours=OPEN_RIDE_HOURS):
                return yesterday
        key = fare_day_id(rider, operator.code, _day(now, 0))
        today = self.files.find(key)
        if isinstance(today, Fare):
            return today
        return Fare(id=key, rider=rider, operator=operator.code, day=_day(now, 0))  # type: ignore[call-arg]

    def _payment(
        self, fare: Fare, operator: Operator, station: Gate, ride: Ride, gate: Principal
    ) -> Payment | None:
        """The payment of a ride paid at the gate (none for one deferred or capped)."""
        if ride.deferred or ride.charged_fen == 0:
            return None
        return self.payments.new(
            ride_payment_id(fare.id, ride.number),
            PaymentKind.FARE,
            fare.rider,
            operator.payee,
            operator.name,
            ride.charged_fen,
            operator.name,
            station.station,
            "",
            fingerprint(kind="FARE", fare=str(fare.id), ride=ride.number),
            gate.subject,
        )

    def _charged(self, ride: Ride, payment: Payment | None) -> FareAnswer:
        if payment is None:
            status = "DEFERRED" if ride.deferred else "CAPPED"
            return FareAnswer(ride.number, ride.fare_fen, ride.charged_fen, status, None)
        paid, _ = self.payments.charge(payment.id)
        status = {PaymentStatus.SUCCEEDED: "PAID", PaymentStatus.FAILED: "FAILED"}.get(
            paid.status, "PENDING"
        )
        return FareAnswer(ride.number, ride.fare_fen, ride.charged_fen, status, payment.id)

    def _at(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="seconds")


def _day(now: datetime, offset: int) -> str:
    return (now.date() + timedelta(days=offset)).isoformat()
