"""Reads of city credit, through the door: a citizen's own, an enterprise's by its people,
anyone's by an officer or an auditor with a purpose (also as of a past moment: what a
benefit decision then was made from); and the public list (双公示), which needs no login.

A score's history is read from its credit file's own events, newest first: a citizen's are
sealed under their key, so an erased citizen's history reads as nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from uuid import UUID

from mycity.domain.credit import Benefit, Credit, Tier, credit_id, score_of
from mycity.domain.credit_rules import CreditRules
from mycity.domain.enterprise import Enterprise
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.public_record import RecordKind
from mycity.identity.principal import Principal
from mycity.policy import credit as policy
from mycity.projections.public_records import PublicRecordList, PublicRecordView
from mycity.reads.door import Door
from mycity.store.files import CityFiles

CREDIT_READ = "credit"
CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")  # GB 32100's alphabet: a search by code


@dataclass(frozen=True)
class CreditChange:
    version: int  # its place in the subject's credit history: the cursor
    at: datetime
    requested: int
    applied: int
    score: int
    reason: str
    rule: str
    severity: str
    source: str
    position: int | None
    decision: str


@dataclass(frozen=True)
class CreditView:
    """A subject's credit as a reader may see it: as of `at`, or now."""

    subject: UUID
    score: int
    tier: Tier
    benefits: frozenset[Benefit]
    at: datetime | None


@dataclass(frozen=True)
class CreditReads:
    door: Door
    files: CityFiles
    rules: CreditRules
    records: PublicRecordList
    subject_of: Callable[[str | None, str | None], UUID]  # by ID number or credit code
    read_models: ClassVar[tuple[str, ...]] = ("public_records",)

    def mine(self, principal: Principal) -> CreditView:
        return self.read(principal, policy.own_credit(principal), None)

    def named(
        self,
        principal: Principal,
        id_number: str | None,
        credit_code: str | None,
        purpose: str | None,
        at: datetime | None,
    ) -> CreditView:
        """Officers' and auditors' read of anyone's, by ID number or credit code."""
        policy.reads_anyones(principal)
        return self.read(principal, self.subject_of(id_number, credit_code), purpose, at)

    def read(
        self,
        principal: Principal,
        subject: UUID,
        purpose: str | None,
        at: datetime | None = None,
    ) -> CreditView:
        """A subject's standing now, or as of `at` (its last change at or before then)."""
        found = self.files.find(subject)
        enterprise = found if isinstance(found, Enterprise) else None
        if found is None:
            raise UserError(ErrorCode.NOT_FOUND, "No such citizen or enterprise", "subject")
        self.door.enter(
            principal,
            CREDIT_READ,
            [subject],
            lambda: policy.read_credit(principal, subject, enterprise),
            fields=sorted(policy.CREDIT_FIELDS),
            purpose=purpose,
        )
        score = self._score_now(subject) if at is None else self._score_at(subject, at)
        return CreditView(subject, score, self.rules.tier(score), self.rules.unlocked(score), at)

    def _score_now(self, subject: UUID) -> int:
        """The credit file's score as it stands: no history read."""
        return score_of(self.files.find(credit_id(subject)), self.rules.base)

    def _score_at(self, subject: UUID, at: datetime) -> int:
        """The score after its last change at or before `at`."""
        score = self.rules.base
        for change in self._changes(subject, newest_first=False):
            if change.at > at:
                break
            score = change.score
        return score

    def history(self, view: CreditView, first: int, before: int | None) -> list[CreditChange]:
        """Up to `first` changes, newest first, older than the version `before` (a credit
        view is only made by `read`, which asked the door)."""
        lte = None if before is None else before - 1
        return self._changes(view.subject, newest_first=True, lte=lte, limit=first)

    def published(
        self, search: str | None, kind: RecordKind | None, first: int, after: str | None
    ) -> list[PublicRecordView]:
        """The public list: no login, nothing personal in it."""
        search = (search or "").strip() or None
        by_code = search is not None and CREDIT_CODE.fullmatch(search) is not None
        return self.records.published(search, kind, first, after, credit_code=by_code)

    def repairs_pending(
        self, principal: Principal, first: int, after: str | None
    ) -> list[PublicRecordView]:
        """An officer's authority's penalties whose repair awaits a decision (what the
        enterprise committed to and its evidence: the enterprise's, public by law)."""
        authority = policy.decides_repairs(principal)
        return self.records.repairs_pending(authority, first, after)

    def record(self, record: UUID) -> PublicRecordView:
        """One record, as the public list shows it."""
        found = self.records.get(record)
        if found is None:
            raise UserError(ErrorCode.NOT_FOUND, "No such public record", "id")
        return found

    def _changes(
        self,
        subject: UUID,
        *,
        newest_first: bool,
        lte: int | None = None,
        limit: int | None = None,
    ) -> list[CreditChange]:
        events = self.files.repository.event_store.get(
            credit_id(subject), lte=lte, desc=newest_first, limit=limit
        )
        return [_change(e) for e in events if isinstance(e, Credit.Changed) and e.score is not None]


def _change(event: Credit.Changed) -> CreditChange:
    return CreditChange(
        version=event.originator_version,
        at=event.timestamp,
        requested=event.requested,
        applied=event.applied,
        score=event.score,
        reason=event.reason,
        rule=event.rule,
        severity=event.severity,
        source=event.source,
        position=event.position,
        decision=event.decision,
    )
