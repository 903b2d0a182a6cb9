"""An enterprise's administrative decision as published (双公示): a licensing decision (every
licence issued to an enterprise, published by the `publication` process with no extra step)
or a penalty decision (an authority's feed records it). Published records are public by
law, so nothing here is sealed; a citizen's penalties are never one of these.

A penalty is published from its date until the end of its severity's period, or until it
is repaired, which is possible from the end of its minimum period (信用修复); a licensing
decision for the rules' `licensing_months`. Its id comes from the authority and the
decision's number, so a feed that sends a decision twice records it once.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.personal import not_personal


class RecordKind(StrEnum):
    LICENSING = "LICENSING"  # 行政许可
    PENALTY = "PENALTY"  # 行政处罚


class Ending(StrEnum):
    EXPIRED = "EXPIRED"  # its publication period ended
    REPAIRED = "REPAIRED"  # its credit was repaired (信用修复)


def public_record_id(kind: RecordKind, authority: str, number: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"mycity:public-record:{kind.value}:{authority}:{number}")


class PublicRecord(Aggregate):
    id: UUID

    @not_personal(
        "kind",
        "number",
        "enterprise",
        "credit_code",
        "name",
        "item",
        "reason",
        "legal_basis",
        "result",
        "authority",
        "decided",
        "severity",
        "points",
        "repairable_from",
        "published_until",
        "evidence",
    )
    class Published(Aggregate.Created):
        kind: str  # RecordKind
        number: str  # the decision's number (a licence's identifier)
        enterprise: UUID
        credit_code: str
        name: str
        item: str  # what it decided on: the licence's type, the penalised conduct
        reason: str
        legal_basis: str
        result: str  # 准予许可; the penalty itself (a fine of so much, a warning)
        authority: str  # the deciding department's code
        decided: str  # YYYY-MM-DD
        severity: str  # a penalty's Severity; "" for a licensing decision
        points: int  # what a penalty took from the score; 0 for a licensing decision
        repairable_from: str  # YYYY-MM-DD; "" for a licensing decision
        published_until: str  # YYYY-MM-DD: its last day of publication is the day before
        evidence: int | None  # a licensing decision's licence, by its position in the log

    @not_personal("ending", "on", "repair")
    class PublicationEnded(Aggregate.Event):
        ending: str  # Ending
        on: str  # YYYY-MM-DD
        repair: UUID | None  # the repair that ended it

    @not_personal("repair", "applicant", "commitment", "materials")
    class RepairApplied(Aggregate.Event):
        repair: UUID
        applicant: UUID  # the citizen who applied for the enterprise
        commitment: str  # the enterprise's written commitment (信用承诺书)
        materials: list[str]  # uploads: evidence that the conduct was corrected

    @not_personal("repair", "officer", "approved", "reason")
    class RepairDecided(Aggregate.Event):
        repair: UUID
        officer: str
        approved: bool
        reason: str

    @event(Published)
    def __init__(
        self,
        kind: str,
        number: str,
        enterprise: UUID,
        credit_code: str,
        name: str,
        item: str,
        reason: str,
        legal_basis: str,
        result: str,
        authority: str,
        decided: str,
        severity: str,
        points: int,
        repairable_from: str,
        published_until: str,
        evidence: int | None,
    ) -> None:
        self.kind = RecordKind(kind)
        self.number = number
        self.enterprise = enterprise
        self.authority = authority
        self.decided = decided
        self.severity = severity
        self.points = points
        self.repairable_from = repairable_from
        self.published_until = published_until
        self.ended: Ending | None = None
        self.pending_repair: UUID | None = None

    def end(self, ending: Ending, on: str, repair: UUID | None = None) -> None:
        if self.ended is not None:
            raise UserError(ErrorCode.NOT_PUBLISHED, "Its publication has already ended")
        self._ended(ending=ending.value, on=on, repair=repair)

    @event(PublicationEnded)
    def _ended(self, ending: str, on: str, repair: UUID | None) -> None:
        self.ended = Ending(ending)

    def apply_for_repair(
        self, repair: UUID, applicant: UUID, commitment: str, materials: list[str], today: str
    ) -> None:
        if self.kind != RecordKind.PENALTY:  # a snapshot holds the text
            raise UserError(ErrorCode.NOT_REPAIRABLE, "Only a penalty decision is repaired")
        if self.ended is not None:
            raise UserError(ErrorCode.NOT_PUBLISHED, "Its publication has already ended")
        if self.pending_repair is not None:
            raise UserError(ErrorCode.REPAIR_PENDING, "Its repair already awaits a decision")
        if today < self.repairable_from:
            raise UserError(
                ErrorCode.REPAIR_TOO_EARLY,
                f"It can be repaired from {self.repairable_from}",
                "penaltyId",
            )
        self._repair_applied(
            repair=repair, applicant=applicant, commitment=commitment, materials=materials
        )

    @event(RepairApplied)
    def _repair_applied(
        self, repair: UUID, applicant: UUID, commitment: str, materials: list[str]
    ) -> None:
        self.pending_repair = repair

    def decide_repair(
        self, repair: UUID, officer: str, approved: bool, reason: str, on: str
    ) -> None:
        if self.pending_repair != repair:
            raise UserError(ErrorCode.NO_REPAIR_PENDING, "No such repair awaits a decision")
        self._repair_decided(repair=repair, officer=officer, approved=approved, reason=reason)
        if approved:
            self.end(Ending.REPAIRED, on, repair)

    @event(RepairDecided)
    def _repair_decided(self, repair: UUID, officer: str, approved: bool, reason: str) -> None:
        self.pending_repair = None

    def expire_if_due(self, today: str) -> bool:
        """End its publication if its period is over (the sweep's); False if not yet."""
        if self.ended is not None or today < self.published_until:
            return False
        self.end(Ending.EXPIRED, today)
        return True
