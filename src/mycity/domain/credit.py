"""A citizen's or an enterprise's city credit (信用分): a score from 0 to 1000, and every
change to it with its reason, its source and its evidence.

The file is opened by its first change, at the base the rules gave then (a subject without
a file has today's base). A change moves the score by what was asked, less what a rule's
cap for the period has already given, clamped to 0..1000: what was asked and what was
applied are both recorded, so the clamping is visible in the history. A citizen's score and
history are theirs: sealed under their service-activity key, gone with their erasure.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mycity.domain.personal import Kind, Retention, not_personal, personal

MIN_SCORE, MAX_SCORE = 0, 1000
MAX_DELTA = MAX_SCORE  # no single change moves a score further than its whole range


class SubjectKind(StrEnum):
    CITIZEN = "CITIZEN"
    ENTERPRISE = "ENTERPRISE"


class Tier(StrEnum):
    """From the highest; the thresholds are the rules file's."""

    EXCELLENT = "EXCELLENT"
    GOOD = "GOOD"
    NORMAL = "NORMAL"
    RESTRICTED = "RESTRICTED"


class Benefit(StrEnum):
    SHORTFALL_ACCEPTANCE = "SHORTFALL_ACCEPTANCE"  # 容缺受理: a non-key material owed later
    PAY_LATER_TRANSIT = "PAY_LATER_TRANSIT"  # 先乘后付: the day's fares billed, not tapped
    DEPOSIT_FREE_LIBRARY = "DEPOSIT_FREE_LIBRARY"  # 免押金借阅


class Severity(StrEnum):
    """A penalty's, as the national rules on publication and repair grade them."""

    MINOR = "MINOR"
    GENERAL = "GENERAL"
    SERIOUS = "SERIOUS"


def credit_id(subject: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"mycity:credit:{subject}")


def clamped(score: int) -> int:
    return min(max(score, MIN_SCORE), MAX_SCORE)


SEALED = Retention.SERVICE_ACTIVITY


@personal(subject="subject", retention=SEALED, score=Kind.TEXT, used=Kind.TEXT, decisions=Kind.TEXT)
class Credit(Aggregate):
    id: UUID

    @not_personal("subject", "kind", "base")
    class Opened(Aggregate.Created):
        subject: UUID  # the citizen's or the enterprise's file
        kind: str  # SubjectKind
        base: int  # the score it starts from: the rules' base when it was opened

    @not_personal("subject", "source", "position", "decision")
    @personal(
        subject="subject",
        retention=SEALED,
        requested=Kind.TEXT,
        applied=Kind.TEXT,
        score=Kind.TEXT,
        reason=Kind.TEXT,
        rule=Kind.TEXT,
        severity=Kind.TEXT,
        period=Kind.TEXT,
    )
    class Changed(Aggregate.Event):
        subject: UUID
        requested: int  # the change the rule or the authority gave
        applied: int  # what it moved the score by: after the rule's cap and the clamping
        score: int  # the score after it
        reason: str  # a reason code (FARE_OVERDUE, PENALTY_DECISION, CREDIT_REPAIRED, …)
        rule: str  # the rule that gave it; "" for an authority's own change
        severity: str  # a penalty's Severity; "" otherwise
        period: str  # the rule's cap period it counts against ("2026-12"); "" if uncapped
        source: str  # who decided it: a department's code, or "rules"
        position: int | None  # its evidence, an event of this log, by position
        decision: str  # or an outside decision, by its number ("" for an event)

    @event(Opened)
    def __init__(self, subject: UUID, kind: str, base: int) -> None:
        self.subject = subject
        self.kind = SubjectKind(kind)
        self.score: int | None = base  # None once its person is erased
        self.used: dict[str, int] | None = {}  # "rule@period": points a capped rule gave
        self.decisions: dict[str, int] = {}  # "source:number": an outside decision's change

    def change(
        self,
        requested: int,
        reason: str,
        source: str,
        *,
        rule: str = "",
        cap: int | None = None,
        period: str = "",
        severity: str = "",
        position: int | None = None,
        decision: str = "",
    ) -> bool:
        """Move the score; False (and nothing recorded) when a rule's cap for the period
        leaves it nothing to give. Clamping at 0 or 1000 is recorded, even to no move."""
        score = self.score if self.score is not None else MIN_SCORE
        allowed = requested
        if cap is not None:
            room = max(cap - (self.used or {}).get(f"{rule}@{period}", 0), 0)
            allowed = max(min(requested, room), -room)
            if allowed == 0 and requested != 0:
                return False
        after = clamped(score + allowed)
        self._changed(
            subject=self.subject,
            requested=requested,
            applied=after - score,
            score=after,
            reason=reason,
            rule=rule,
            severity=severity,
            period=period if cap is not None else "",
            source=source,
            position=position,
            decision=decision,
        )
        return True

    @event(Changed)
    def _changed(
        self,
        subject: UUID,
        requested: int | None,
        applied: int | None,
        score: int | None,
        reason: str | None,
        rule: str | None,
        severity: str | None,
        period: str | None,
        source: str,
        position: int | None,
        decision: str,
    ) -> None:
        self.score = score
        if decision:
            self.decisions[f"{source}:{decision}"] = requested or 0
        if not period or applied is None or self.used is None:
            return
        used = {k: v for k, v in self.used.items() if not k.startswith(f"{rule}@")}
        used[f"{rule}@{period}"] = self.used.get(f"{rule}@{period}", 0) + abs(requested or 0)
        self.used = used


def score_of(found: object, base: int) -> int:
    """A subject's score from its credit file as found: the base without one (or once its
    person is erased)."""
    if isinstance(found, Credit) and found.score is not None:
        return found.score
    return base


def opened(found: object, subject: UUID, kind: SubjectKind, base: int) -> Credit:
    """The subject's credit file as found, or opened at the base."""
    if isinstance(found, Credit):
        return found
    return Credit(id=credit_id(subject), subject=subject, kind=kind.value, base=base)  # type: ignore[call-arg]
