"""A rider's fares with one transit operator on one day (the city's day): the rides, what
each cost and what was charged after the daily cap, and, for a rider who rides now and
pays later (先乘后付), the day's bill and whether it went overdue.

Its id comes from the rider, the operator and the day, so every tap of that day finds it
and the cap is kept by one file's version: two taps racing are decided one after the other.
Where the rider was (the stations) is theirs: sealed under their service-activity key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mycity.domain.fares import Gate, Operator
from mycity.domain.personal import Kind, Retention, not_personal, personal

DUE_DAYS = 7  # a day's bill unpaid this many days after it is overdue
OPEN_RIDE_HOURS = 4  # a tap-out later than this after its tap-in starts a new ride


def fare_day_id(rider: UUID, operator: str, day: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"mycity:fare-day:{rider}:{operator}:{day}")


def ride_payment_id(fare_day: UUID, ride: int) -> UUID:
    """The payment of one ride paid at the gate: a tap answered twice charges once."""
    return uuid5(NAMESPACE_URL, f"mycity:fare:{fare_day}:{ride}")


def bill_payment_id(fare_day: UUID, attempt: int) -> UUID:
    return uuid5(NAMESPACE_URL, f"mycity:fare-bill:{fare_day}:{attempt}")


@dataclass(frozen=True)
class Ride:
    """A ride that ended with a tap: what it cost, and what was charged after the cap."""

    number: int
    fare_fen: int
    charged_fen: int
    deferred: bool  # on the day's bill (pay later), not paid at the gate


@personal(subject="rider", retention=Retention.SERVICE_ACTIVITY, open_station=Kind.TEXT)
class Fare(Aggregate):
    id: UUID

    @not_personal("rider", "operator", "day")
    class Opened(Aggregate.Created):
        rider: UUID
        operator: str
        day: str  # YYYY-MM-DD in the city's time zone

    @not_personal("rider", "ride", "gate", "at")
    @personal(subject="rider", retention=Retention.SERVICE_ACTIVITY, station=Kind.TEXT)
    class TappedIn(Aggregate.Event):
        rider: UUID
        ride: int
        gate: str
        station: str
        at: str  # ISO 8601, UTC

    @not_personal("rider", "ride", "gate", "fare_fen", "charged_fen", "deferred", "at")
    @personal(
        subject="rider",
        retention=Retention.SERVICE_ACTIVITY,
        from_station=Kind.TEXT,
        to_station=Kind.TEXT,
    )
    class Ridden(Aggregate.Event):
        rider: UUID
        ride: int
        gate: str  # where it ended ("" for a ride left open, charged the highest fare)
        from_station: str
        to_station: str
        fare_fen: int
        charged_fen: int  # after the daily cap
        deferred: bool
        at: str

    @not_personal("payment", "amount_fen")
    class Billed(Aggregate.Event):
        payment: UUID
        amount_fen: int

    @not_personal("payment", "amount_fen", "due")
    class Overdue(Aggregate.Event):
        payment: UUID  # the bill's payment that did not succeed
        amount_fen: int
        due: str  # the day it was due

    @event(Opened)
    def __init__(self, rider: UUID, operator: str, day: str) -> None:
        self.rider = rider
        self.operator = operator
        self.day = day
        self.rides = 0
        self.open_gate = ""
        self.open_station: str | None = None
        self.opened_at = ""
        self.charged_fen = 0
        self.deferred_fen = 0
        self.billed_fen = 0
        self.bills: list[UUID] = []
        self.overdue = False

    @property
    def unbilled_fen(self) -> int:
        return self.deferred_fen - self.billed_fen

    def tap(self, operator: Operator, gate: Gate, at: str, deferred: bool) -> list[Ride]:
        """A tap at the gate; the rides it ended. A flat fare's tap is a ride. By distance,
        a tap with a ride open ends it (the fare from where it began), and one with none
        begins one; a ride open longer than OPEN_RIDE_HOURS is first ended at the highest
        fare, and the tap begins a new one."""
        ended = []
        if self.open_gate and _hours(self.opened_at, at) > OPEN_RIDE_HOURS:
            ended.append(self._ride(operator, None, operator.highest_fen, deferred, at))
        if not operator.by_distance:
            return [*ended, self._ride(operator, gate, operator.highest_fen, deferred, at)]
        if self.open_gate:
            start = operator.gates.get(self.open_gate)
            fare = operator.fare(start, gate) if start else operator.highest_fen
            return [*ended, self._ride(operator, gate, fare, deferred, at)]
        self._tapped_in(rider=self.rider, ride=self.rides + 1, gate=gate.client,
                        station=gate.station, at=at)  # fmt: skip
        return ended

    def close_open(self, operator: Operator, deferred: bool, at: str) -> Ride | None:
        """Charge a ride left open at the day's end the highest fare."""
        if not self.open_gate:
            return None
        return self._ride(operator, None, operator.highest_fen, deferred, at)

    def _ride(
        self, operator: Operator, gate: Gate | None, fare: int, deferred: bool, at: str
    ) -> Ride:
        number = self.rides if self.open_gate else self.rides + 1
        charged = max(0, min(fare, operator.daily_cap_fen - self.charged_fen))
        self._ridden(
            rider=self.rider,
            ride=number,
            gate=gate.client if gate else "",
            from_station=self.open_station or (gate.station if gate else ""),
            to_station=gate.station if gate else "",
            fare_fen=fare,
            charged_fen=charged,
            deferred=deferred,
            at=at,
        )
        return Ride(number, fare, charged, deferred)

    @event(TappedIn)
    def _tapped_in(self, rider: UUID, ride: int, gate: str, station: str | None, at: str) -> None:
        self.rides = ride
        self.open_gate = gate
        self.open_station = station
        self.opened_at = at

    @event(Ridden)
    def _ridden(
        self,
        rider: UUID,
        ride: int,
        gate: str,
        from_station: str | None,
        to_station: str | None,
        fare_fen: int,
        charged_fen: int,
        deferred: bool,
        at: str,
    ) -> None:
        self.rides = ride
        self.open_gate = ""
        self.open_station = None
        self.charged_fen += charged_fen
        if deferred:
            self.deferred_fen += charged_fen

    def bill(self, payment: UUID) -> None:
        """Put what was ridden on credit this day on one payment (the nightly bill; again,
        on a new payment, after one that failed)."""
        self._billed(payment=payment, amount_fen=self.deferred_fen)

    @event(Billed)
    def _billed(self, payment: UUID, amount_fen: int) -> None:
        self.billed_fen = amount_fen  # the day's bill is now this payment, for all of it
        self.bills.append(payment)

    def fall_overdue(self, payment: UUID, amount_fen: int, due: str) -> None:
        if not self.overdue:
            self._overdue(payment=payment, amount_fen=amount_fen, due=due)

    @event(Overdue)
    def _overdue(self, payment: UUID, amount_fen: int, due: str) -> None:
        self.overdue = True


def _hours(since: str, until: str) -> float:
    return (datetime.fromisoformat(until) - datetime.fromisoformat(since)).total_seconds() / 3600
