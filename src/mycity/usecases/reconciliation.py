"""Reconciling a day (对账): the provider's statement (docs/payments.md §2) held against what
the city recorded of the same day, in the payees' books; every difference said.

A difference is one of: a charge or refund on the statement the city has not recorded that
day (`MISSING_IN_CITY`), one the city recorded that the statement lacks
(`MISSING_FROM_STATEMENT`), the same one with another amount (`AMOUNT_DIFFERS`), or another
outcome (`STATUS_DIFFERS`: the provider says succeeded, the city has it pending, say). The
run is recorded on the day's `StatementDay`, clean or not.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate

from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.payee_day import PayeeDay
from mycity.domain.payment import Payment, PaymentStatus, reference_id
from mycity.domain.reconciliation import StatementDay, statement_day_id
from mycity.integrations.payments import PaymentProvider
from mycity.store.files import CityFiles

HEADER = [
    "type", "id", "charge", "charge_reference", "reference", "payer", "payee", "amount_fen",
    "status", "settled_at",
]  # fmt: skip
OUTCOMES = {"succeeded": PaymentStatus.SUCCEEDED, "failed": PaymentStatus.FAILED}


class Kind(StrEnum):
    MISSING_IN_CITY = "MISSING_IN_CITY"
    MISSING_FROM_STATEMENT = "MISSING_FROM_STATEMENT"
    AMOUNT_DIFFERS = "AMOUNT_DIFFERS"
    STATUS_DIFFERS = "STATUS_DIFFERS"


@dataclass(frozen=True)
class Line:
    """One charge or refund of the statement."""

    type: str  # charge, refund
    id: str
    reference: str  # the city's payment id (a charge) or refund id (a refund)
    charge_reference: str  # a refund's: its charge's reference
    payee: str
    amount_fen: int
    status: str  # succeeded, failed


@dataclass(frozen=True)
class Difference:
    kind: Kind
    type: str
    reference: str
    provider: str  # what the statement says ("" if it lacks it)
    city: str  # what the city recorded ("" if it lacks it)

    def __str__(self) -> str:
        said = f"provider {self.provider or '-'}, city {self.city or '-'}"
        return f"{self.kind} {self.type} {self.reference}: {said}"


@dataclass(frozen=True)
class Report:
    day: date
    lines: int
    recorded: int  # the city's charges and refunds of the day
    differences: list[Difference]

    @property
    def summary(self) -> str:
        verdict = "clean" if not self.differences else f"{len(self.differences)} differ"
        return (
            f"{self.day}: {self.lines} on the statement, {self.recorded} recorded by the city, "
            f"{verdict}"
        )


def parse_statement(text: str) -> list[Line]:
    """The statement's lines; a malformed one is INVALID_ARGUMENT naming its line."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0] != HEADER:
        raise UserError(ErrorCode.INVALID_ARGUMENT, f"line 1: not {','.join(HEADER)}")
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        fields = dict(zip(HEADER, row, strict=False))
        if (
            len(row) != len(HEADER)
            or fields["type"] not in ("charge", "refund")
            or fields["status"] not in OUTCOMES
            or not fields["amount_fen"].isdigit()
        ):
            raise UserError(ErrorCode.INVALID_ARGUMENT, f"line {number}: not a statement line")
        lines.append(
            Line(
                fields["type"],
                fields["id"],
                fields["reference"],
                fields["charge_reference"],
                fields["payee"],
                int(fields["amount_fen"]),
                fields["status"],
            )
        )
    return lines


@dataclass
class Reconciliation:
    files: CityFiles
    provider: PaymentProvider | None
    books_of: Callable[[str], Iterable[UUID]]  # the payees' books of a day (settlement)

    def reconcile(self, day: date, statement: str | None = None) -> Report:
        """Compare the day's statement (the provider's, fetched, unless one is given) with
        the city's books of the day, and record the outcome."""
        if statement is None:
            if self.provider is None:
                raise UserError(ErrorCode.SERVICE_UNAVAILABLE, "No payment provider is set")
            statement = self.provider.statement(day)
        lines = parse_statement(statement)
        charges, refunds = self._recorded(day.isoformat())
        recorded = len(charges) + len(refunds)
        differences = [d for line in lines if (d := self._check(line, charges, refunds))]
        differences += [
            Difference(Kind.MISSING_FROM_STATEMENT, kind, ref, "", f"{amount} fen succeeded")
            for kind, left in (("charge", charges), ("refund", refunds))
            for ref, amount in left.items()
        ]
        self._record(day, statement, len(lines), len(differences))
        return Report(day, len(lines), recorded, differences)

    def _recorded(self, day: str) -> tuple[dict[str, int], dict[str, int]]:
        """The charges and refunds the payees' books of the day hold, by reference."""
        charges: dict[str, int] = {}
        refunds: dict[str, int] = {}
        for book in self.books_of(day):
            for event in self.files.events.get(book):
                if isinstance(event, PayeeDay.Received):
                    charges[str(event.payment)] = event.amount_fen
                elif isinstance(event, PayeeDay.RefundSent):
                    refunds[str(event.refund)] = event.amount_fen
        return charges, refunds

    def _check(
        self, line: Line, charges: dict[str, int], refunds: dict[str, int]
    ) -> Difference | None:
        said = f"{line.amount_fen} fen {line.status}"
        recorded = (charges if line.type == "charge" else refunds).pop(line.reference, None)
        if recorded is not None:
            if line.status != "succeeded":
                return Difference(Kind.STATUS_DIFFERS, line.type, line.reference, said, "succeeded")
            if recorded != line.amount_fen:
                return Difference(
                    Kind.AMOUNT_DIFFERS, line.type, line.reference, said, f"{recorded} fen"
                )
            return None
        status = self._status(line)
        if status is None:
            return Difference(Kind.MISSING_IN_CITY, line.type, line.reference, said, "")
        if status != OUTCOMES[line.status]:
            return Difference(Kind.STATUS_DIFFERS, line.type, line.reference, said, status.lower())
        if status is PaymentStatus.SUCCEEDED:  # recorded, but not in that day's books
            return Difference(Kind.MISSING_IN_CITY, line.type, line.reference, said, "another day")
        return None  # failed on both sides: no money moved

    def _status(self, line: Line) -> PaymentStatus | None:
        """What the city's payment says of the line: its own status, or its refund's."""
        if line.type == "charge":
            payment = self._payment(line.reference)
            return None if payment is None else payment.status
        payment = self._payment(line.charge_reference)
        refund = reference_id(line.reference)
        if payment is None or refund is None or refund not in payment.refunds:
            return None
        return PaymentStatus(payment.refunds[refund]["status"])

    def _payment(self, reference: str) -> Payment | None:
        key = reference_id(reference)
        found: Aggregate | None = None if key is None else self.files.find(key)
        return found if isinstance(found, Payment) else None

    def _record(self, day: date, statement: str, lines: int, differences: int) -> None:
        def reconcile(found: StatementDay) -> None:
            found.reconciled(
                statement_sha256=hashlib.sha256(statement.encode()).hexdigest(),
                lines=lines,
                differences=differences,
                by="cli",
            )

        key = statement_day_id(day.isoformat())
        if not self.files.exists(key):
            opened = StatementDay(id=key, day=day.isoformat())  # type: ignore[call-arg]
            reconcile(opened)
            self.files.commit(opened)
            return
        self.files.update(StatementDay, key, reconcile)
