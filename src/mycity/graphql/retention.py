"""The receipt of an erasure (PIPL art. 47): what went at once, what is kept, until when,
under which rule."""

from __future__ import annotations

from datetime import date

import strawberry

from mycity.domain.personal import Retention
from mycity.domain.retention import Counted, Kept, RecordKind
from mycity.graphql.citizens import CitizenPayload
from mycity.usecases.privacy import Erasure

strawberry.enum(Retention, name="RetentionClass")
strawberry.enum(RecordKind, name="StatutoryRecordKind")
strawberry.enum(Counted, name="RetentionCountedFrom")


@strawberry.type(description="A statutory record kept after its person's account closed.")
class KeptRecord:
    kind: RecordKind
    reference: str = strawberry.field(
        description="The record's id: the citizen's, the application's or the licence's."
    )
    item: str = strawberry.field(description="Its catalogue item; empty for a registration.")
    rule: str = strawberry.field(description="The rule kept under: its kind, or its item.")
    years: int | None = strawberry.field(description="How long it is kept; null: for good.")
    counted_from: Counted
    ends: date | None = strawberry.field(
        description="The day the record ended; null while it has not (an open application)."
    )
    erased_on: date | None = strawberry.field(
        description="The day it goes; null while it has not ended, or if kept for good."
    )
    basis: str = strawberry.field(description="The law or regulation that keeps it.")

    @classmethod
    def of(cls, kept: Kept) -> KeptRecord:
        return cls(
            kind=kept.record.kind,
            reference=kept.record.reference,
            item=kept.record.item,
            rule=kept.rule.name,
            years=kept.rule.years,
            counted_from=kept.rule.counted,
            ends=kept.record.ends,
            erased_on=kept.erased_on,
            basis=kept.rule.basis,
        )


@strawberry.type
class ErasureReceipt:
    erased_now: list[Retention] = strawberry.field(
        description="What can no longer be read anywhere: the service activity (scans, "
        "check-ins, the city code's state, the contact details)."
    )
    kept: list[KeptRecord]
    statutory_records_erased_on: date | None = strawberry.field(
        description="The day the last kept record goes and all of them with it (unless a "
        "legal hold keeps them); null while a record is open, or if one is kept for good."
    )

    @classmethod
    def of(cls, erasure: Erasure) -> ErasureReceipt:
        return cls(
            erased_now=erasure.erased_now,
            kept=[KeptRecord.of(k) for k in erasure.kept],
            statutory_records_erased_on=erasure.statutory_erased_on,
        )


@strawberry.type
class ErasurePayload(CitizenPayload):
    receipt: ErasureReceipt | None = None
