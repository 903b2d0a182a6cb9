"""The nightly fares (each hour, for the days gone by): a ride left open at the day's end
is charged the highest fare; what a rider rode on credit (先乘后付) that day is put on one
bill and charged; a bill that failed is charged again on a new payment each night; and a
day's bill still unpaid `DUE_DAYS` after the day falls overdue (`Fare.Overdue`, which
credit will turn into a penalty). Each step is a command on the rider's day, which decides
again, so running twice does nothing twice."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

from mycity.domain.fare import DUE_DAYS, Fare, bill_payment_id, ride_payment_id
from mycity.domain.fares import FareRules
from mycity.domain.money import fingerprint
from mycity.domain.payment import Payment, PaymentKind, PaymentStatus
from mycity.usecases.payments import Payments
from mycity.usecases.seams import PayLater
from mycity.usecases.sweeps import Sweep

log = logging.getLogger(__name__)
BY = "fares"  # who requests the payments it makes


class DayToSettle(Protocol):
    @property
    def id(self) -> UUID: ...


@dataclass(kw_only=True)
class FareBilling(Sweep):
    payments: Payments
    rules: FareRules
    pay_later: PayLater
    to_settle: Callable[[str, str, int], Sequence[DayToSettle]]
    timezone: str
    clock: Callable[[], float]
    every_seconds: float = 3600.0

    def sweep(self) -> int:
        if not self.payments.taken:
            return 0
        today = datetime.fromtimestamp(self.clock(), ZoneInfo(self.timezone)).date()
        oldest = (today - timedelta(days=DUE_DAYS + 1)).isoformat()
        done = 0
        for row in self.to_settle(today.isoformat(), oldest, self.batch):
            try:
                done += self.settle(row.id, today)
            except Exception:  # one day's trouble never stops the others
                log.exception("settling the fares of %s failed", row.id)
        return done

    def settle(self, day_id: UUID, today: date) -> int:
        """Do what is left of one rider's day; how many things were done."""
        files = self.payments.files
        fare = files.get(Fare, day_id)
        operator = self.rules.operators[fare.operator]
        done = 0
        if fare.open_gate:
            deferred = self.pay_later.may_ride_now_pay_later(fare.rider)
            ride = fare.close_open(operator, deferred, self._at())
            started = []
            if ride is not None and ride.charged_fen and not ride.deferred:
                started.append(
                    self._payment(fare, ride_payment_id(fare.id, ride.number), ride.charged_fen)
                )
            files.commit(fare, *started)
            for payment in started:
                self.payments.charge(payment.id)
            done += 1
            fare = files.get(Fare, day_id)
        current = files.read(Payment, fare.bills[-1]) if fare.bills else None
        due = date.fromisoformat(fare.day) + timedelta(days=DUE_DAYS)
        failed = current is not None and current.status is PaymentStatus.FAILED
        if fare.unbilled_fen > 0 or (failed and today <= due):
            bill = self._payment(fare, bill_payment_id(fare.id, len(fare.bills)), fare.deferred_fen)
            fare.bill(bill.id)
            files.commit(fare, bill)
            self.payments.charge(bill.id)
            return done + 1
        if today > due and current is not None and current.status is not PaymentStatus.SUCCEEDED:
            fare.fall_overdue(current.id, fare.billed_fen, due.isoformat())
            files.commit(fare)
            done += 1
        return done

    def _payment(self, fare: Fare, pid: UUID, amount: int) -> Payment:
        operator = self.rules.operators[fare.operator]
        return self.payments.new(
            pid,
            PaymentKind.FARE,
            fare.rider,
            operator.payee,
            operator.name,
            amount,
            f"{operator.name} {fare.day}",
            "",
            "",
            fingerprint(kind="FARE", fare=str(fare.id), payment=str(pid)),
            BY,
        )

    def _at(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="seconds")
