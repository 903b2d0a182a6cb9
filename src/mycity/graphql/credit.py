"""City credit (信用分): a subject's score, tier, benefits and history; authorities' feeds
recording changes and penalty decisions; credit repair; the public list (双公示)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry import relay

from mycity.domain.credit import Benefit, Severity, Tier
from mycity.domain.public_record import RecordKind
from mycity.graphql.context import PURPOSE, Info, blocking
from mycity.graphql.errors import UserError, parse_id, reports_user_errors
from mycity.graphql.pagination import (
    Connection,
    check_first,
    connection,
    decode_cursor,
    keyed_page,
    keyset,
)
from mycity.projections.public_records import PublicRecordView
from mycity.reads.credit import CreditChange as Change
from mycity.reads.credit import CreditView
from mycity.usecases.credit import PenaltyDecision

CreditTier = strawberry.enum(Tier, name="CreditTier")
CreditBenefit = strawberry.enum(Benefit, name="CreditBenefit")
PenaltySeverity = strawberry.enum(Severity, name="PenaltySeverity")
PublicRecordKind = strawberry.enum(RecordKind, name="PublicRecordKind")


@strawberry.type(description="What a change to a score rests on.")
class CreditEvidence:
    position: int | None = strawberry.field(
        description="An event of this log, by its position (provable with `auditInclusionProof`)."
    )
    decision: str | None = strawberry.field(description="An outside decision, by its number.")


@strawberry.type(description="One change to a score, and why.")
class CreditChange:
    at: dt.datetime
    requested: int = strawberry.field(description="What the rule or the authority gave.")
    applied: int = strawberry.field(
        description="What it moved the score by: less than requested where a rule's cap for "
        "the period or the range 0..1000 stopped it."
    )
    score: int = strawberry.field(description="The score after it.")
    reason: str
    rule: str | None
    severity: PenaltySeverity | None  # type: ignore[valid-type]
    source: str = strawberry.field(description="A department's code, or `rules`.")
    evidence: CreditEvidence

    @classmethod
    def of(cls, change: Change) -> CreditChange:
        return cls(
            at=change.at,
            requested=change.requested,
            applied=change.applied,
            score=change.score,
            reason=change.reason,
            rule=change.rule or None,
            severity=Severity(change.severity) if change.severity else None,
            source=change.source,
            evidence=CreditEvidence(position=change.position, decision=change.decision or None),
        )


@strawberry.type(description="A citizen's or an enterprise's city credit (0 to 1000).")
class Credit:
    score: int
    tier: CreditTier  # type: ignore[valid-type]
    benefits: list[CreditBenefit]  # type: ignore[valid-type]
    at: dt.datetime | None = strawberry.field(description="As of this moment; null: now.")
    view: strawberry.Private[CreditView]

    @classmethod
    def of(cls, view: CreditView) -> Credit:
        return cls(
            score=view.score,
            tier=view.tier,
            benefits=sorted(view.benefits),
            at=view.at,
            view=view,
        )

    @strawberry.field(description="Its changes, newest first.")
    async def history(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[CreditChange]:
        context = info.context
        before = decode_cursor(after, int)[0] if after else None
        found = await context.read(
            context.city.reads.credit.history, self.view, check_first(first) + 1, before
        )
        return connection([([c.version], CreditChange.of(c)) for c in found], first, after)


@strawberry.type(description="An administrative decision published (双公示).")
class PublicCreditRecord:
    id: relay.GlobalID
    kind: PublicRecordKind  # type: ignore[valid-type]
    number: str
    name: str
    credit_code: str
    item: str
    reason: str
    legal_basis: str
    result: str
    authority: str
    decided: dt.date
    severity: PenaltySeverity | None  # type: ignore[valid-type]
    published_until: dt.date = strawberry.field(description="Published up to the day before.")
    repairable_from: dt.date | None = strawberry.field(
        description="A penalty's repair may be applied for from this day."
    )

    @classmethod
    def of(cls, view: PublicRecordView) -> PublicCreditRecord:
        return cls(
            id=relay.GlobalID("PublicCreditRecord", str(view.id)),
            kind=view.kind,
            number=view.number,
            name=view.name,
            credit_code=view.credit_code,
            item=view.item,
            reason=view.reason,
            legal_basis=view.legal_basis,
            result=view.result,
            authority=view.authority,
            decided=view.decided,
            severity=Severity(view.severity) if view.severity else None,
            published_until=view.published_until,
            repairable_from=view.repairable_from,
        )


@strawberry.type(description="An enterprise's application to repair a penalty (信用修复).")
class CreditRepair:
    id: relay.GlobalID = strawberry.field(description="`repairId` of `decideCreditRepair`.")
    penalty: PublicCreditRecord
    commitment: str
    materials: list[str] = strawberry.field(description="Uploads, `document:<sha256>`.")
    applied_at: dt.datetime

    @classmethod
    def of(cls, view: PublicRecordView) -> CreditRepair:
        assert view.repair_pending is not None and view.repair_applied_at is not None
        return cls(
            id=relay.GlobalID("CreditRepair", str(view.repair_pending)),
            penalty=PublicCreditRecord.of(view),
            commitment=view.repair_commitment,
            materials=list(view.repair_materials),
            applied_at=view.repair_applied_at,
        )


@strawberry.type
class CreditQueries:
    @strawberry.field(description="The caller's own credit.")
    async def my_credit(self, info: Info) -> Credit:
        context = info.context
        me = context.require()
        view = await context.read(context.city.reads.credit.mine, me)
        return Credit.of(view)

    @strawberry.field(
        description="Officers and auditors: a citizen's (by idNumber) or an enterprise's (by "
        "creditCode) credit, now or as of `at`; the read is recorded with its purpose."
    )
    async def credit_score(
        self,
        info: Info,
        id_number: str | None = None,
        credit_code: str | None = None,
        at: dt.datetime | None = None,
        purpose: Annotated[str | None, PURPOSE] = None,
    ) -> Credit:
        context = info.context
        view = await context.read(
            context.city.reads.credit.named, context.require(), id_number, credit_code, purpose, at
        )
        return Credit.of(view)

    @strawberry.field(
        description="Officers: their authority's penalties whose repair awaits a decision, "
        "oldest application first."
    )
    async def pending_credit_repairs(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[CreditRepair]:
        context = info.context
        found = await context.read(
            context.city.reads.credit.repairs_pending,
            context.require(),
            check_first(first) + 1,
            keyset(after),
        )
        return keyed_page([(r.repair_cursor, CreditRepair.of(r)) for r in found], first, after)

    @strawberry.field(
        description="The public list of enterprises' licensing and penalty decisions while "
        "published (双公示); no login. `search`: a credit code, or the start of a name."
    )
    async def public_credit_records(
        self,
        info: Info,
        search: str | None = None,
        kind: PublicRecordKind | None = None,  # type: ignore[valid-type]
        first: int = 20,
        after: str | None = None,
    ) -> Connection[PublicCreditRecord]:
        context = info.context
        found = await context.read(
            context.city.reads.credit.published,
            search,
            RecordKind(kind) if kind else None,
            check_first(first) + 1,
            keyset(after),
        )
        return keyed_page([(r.cursor, PublicCreditRecord.of(r)) for r in found], first, after)


@strawberry.input
class RecordCreditChangeInput:
    id_number: str | None = strawberry.field(default=None, description="A citizen's; or:")
    credit_code: str | None = strawberry.field(default=None, description="An enterprise's.")
    delta: int = strawberry.field(description="-1000 to 1000, not 0.")
    reason: str = strawberry.field(description="A reason code: A-Z, 0-9 and _.")
    decision: str = strawberry.field(description="The decision's number: its evidence.")
    severity: PenaltySeverity | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="A penalty's; a reward has none."
    )


@strawberry.input
class RecordPenaltyDecisionInput:
    credit_code: str
    number: str
    item: str
    reason: str
    legal_basis: str
    result: str
    decided: dt.date
    severity: PenaltySeverity  # type: ignore[valid-type]


@strawberry.input
class ApplyForCreditRepairInput:
    penalty_id: relay.GlobalID
    commitment: str = strawberry.field(description="20 to 2000 characters.")
    materials: list[str] = strawberry.field(
        default_factory=list, description="Up to 10 uploads, each `document:<sha256>`."
    )


@strawberry.input
class DecideCreditRepairInput:
    penalty_id: relay.GlobalID
    repair_id: relay.GlobalID
    approve: bool
    reason: str


@strawberry.type
class RecordCreditChangePayload:
    recorded: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RecordPenaltyDecisionPayload:
    record: PublicCreditRecord | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApplyForCreditRepairPayload:
    repair_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DecideCreditRepairPayload:
    decided: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _penalty(gid: relay.GlobalID) -> UUID:
    return parse_id(gid, "PublicCreditRecord", "penaltyId")


@strawberry.type
class CreditMutations:
    @strawberry.mutation(description="An authority's feed rewards or penalises a subject.")
    @reports_user_errors(RecordCreditChangePayload)
    async def record_credit_change(
        self, info: Info, input: RecordCreditChangeInput
    ) -> RecordCreditChangePayload:
        context = info.context
        position = await blocking(
            context.city.credits.record_change,
            context.require(),
            input.id_number,
            input.credit_code,
            input.delta,
            input.reason,
            input.decision,
            Severity(input.severity) if input.severity else None,
        )
        context.wrote(position)
        return RecordCreditChangePayload(recorded=True)

    @strawberry.mutation(
        description="An authority's feed records an enterprise's penalty decision: published "
        "and its severity's points taken from the score."
    )
    @reports_user_errors(RecordPenaltyDecisionPayload)
    async def record_penalty_decision(
        self, info: Info, input: RecordPenaltyDecisionInput
    ) -> RecordPenaltyDecisionPayload:
        context = info.context
        decision = PenaltyDecision(
            credit_code=input.credit_code,
            number=input.number,
            item=input.item,
            reason=input.reason,
            legal_basis=input.legal_basis,
            result=input.result,
            decided=input.decided,
            severity=Severity(input.severity),
        )
        record, position = await blocking(
            context.city.credits.record_penalty, context.require(), decision
        )
        context.wrote(position)
        view = await context.read(context.city.reads.credit.record, record)
        return RecordPenaltyDecisionPayload(record=PublicCreditRecord.of(view))

    @strawberry.mutation(description="信用修复: the enterprise applies to repair a penalty.")
    @reports_user_errors(ApplyForCreditRepairPayload)
    async def apply_for_credit_repair(
        self, info: Info, input: ApplyForCreditRepairInput
    ) -> ApplyForCreditRepairPayload:
        context = info.context
        repair, position = await blocking(
            context.city.credits.apply_for_repair,
            context.require(),
            _penalty(input.penalty_id),
            input.commitment,
            input.materials,
        )
        context.wrote(position)
        return ApplyForCreditRepairPayload(repair_id=relay.GlobalID("CreditRepair", str(repair)))

    @strawberry.mutation(description="An officer of the deciding authority decides a repair.")
    @reports_user_errors(DecideCreditRepairPayload)
    async def decide_credit_repair(
        self, info: Info, input: DecideCreditRepairInput
    ) -> DecideCreditRepairPayload:
        context = info.context
        position = await blocking(
            context.city.credits.decide_repair,
            context.require(),
            _penalty(input.penalty_id),
            parse_id(input.repair_id, "CreditRepair", "repairId"),
            input.approve,
            input.reason,
        )
        context.wrote(position)
        return DecideCreditRepairPayload(decided=True)
