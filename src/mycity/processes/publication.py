"""Publication (双公示) of licensing decisions: every licence issued to an enterprise is
published as a public record, with no extra step, recorded with the process's position so
that none is published twice or left out. The record cites the licence's issuance by its
position in the log."""

from __future__ import annotations

from datetime import date
from functools import singledispatchmethod
from typing import Any

from mycity.domain.credit import SubjectKind
from mycity.domain.enterprise import Enterprise
from mycity.domain.licence import Licence
from mycity.domain.months import add_months
from mycity.domain.public_record import PublicRecord, RecordKind, public_record_id
from mycity.processes.tracked import Process, Reply

GRANTED = "准予许可"  # the result of every licensing decision this system records
LICENSING_BASIS = "《中华人民共和国行政许可法》"  # until the catalogue names each item's own


class Publication(Process):
    name = "publication"

    def __init__(self, licensing_months: int) -> None:
        self.licensing_months = licensing_months

    @singledispatchmethod
    def policy(self, event: Any, reply: Reply) -> None:
        pass

    @policy.register
    def _(self, event: Licence.Issued, reply: Reply) -> None:
        if event.holder_kind != SubjectKind.ENTERPRISE.value:
            return
        record = public_record_id(RecordKind.LICENSING, event.issuer, event.identifier)
        if reply.find(record) is not None:
            return
        enterprise = reply.get(Enterprise, event.holder)
        decided = date.fromisoformat(event.valid_from[:10])
        published = PublicRecord(  # type: ignore[call-arg]
            id=record,
            kind=RecordKind.LICENSING.value,
            number=event.identifier,
            enterprise=enterprise.id,
            credit_code=enterprise.credit_code,
            name=enterprise.name,
            item=event.type_name,
            reason="",
            legal_basis=LICENSING_BASIS,
            result=GRANTED,
            authority=event.issuer,
            decided=decided.isoformat(),
            severity="",
            points=0,
            repairable_from="",
            published_until=add_months(decided, self.licensing_months).isoformat(),
            evidence=reply.position,
        )
        reply.save(published)
