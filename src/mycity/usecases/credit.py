"""City credit's commands: authorities' feeds record changes and penalty decisions; an
enterprise applies to repair a published penalty; an officer of the deciding authority
approves or refuses; the publication sweep ends what has been published long enough.

A penalty decision is published and takes its points in one transaction; an approved repair
gives them back and ends the publication in one transaction. A feed that sends the same
decision again is answered as the first time, and never counted twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from mycity.domain.credit import MAX_DELTA, Credit, Severity, SubjectKind, credit_id, opened
from mycity.domain.credit_rules import CODE, CreditRules
from mycity.domain.enterprise import Enterprise
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.identifiers import validate_credit_code, validate_resident_id
from mycity.domain.public_record import PublicRecord, RecordKind, public_record_id
from mycity.domain.reasons import validate_reason
from mycity.identity.principal import Principal
from mycity.identity.subjects import SubjectIds
from mycity.policy import credit as policy
from mycity.store.files import CityFiles
from mycity.usecases.materials import DOCUMENT
from mycity.usecases.uploads import Uploads

PENALTY_DECISION = "PENALTY_DECISION"  # the reason code of a penalty decision's change
CREDIT_REPAIRED = "CREDIT_REPAIRED"  # ... and of its points given back by a repair
MAX_NUMBER = 64  # a decision's number
MAX_TEXT = 500  # what a decision says of itself: its item, reason, basis, result
MAX_COMMITMENT = 2000
MAX_MATERIALS = 10
# What a decision sent again must repeat to be taken as the same one.
SAME_DECISION = ("enterprise", "severity", "decided")
_NUMBER = re.compile(r"^[^\s|][^|]{0,63}$")


@dataclass(frozen=True)
class Subject:
    """Whose credit: a citizen by ID number, or an enterprise by credit code."""

    id: UUID
    kind: SubjectKind


@dataclass(frozen=True)
class PenaltyDecision:
    credit_code: str
    number: str
    item: str
    reason: str
    legal_basis: str
    result: str
    decided: date
    severity: Severity


@dataclass
class Credits:
    files: CityFiles
    ids: SubjectIds
    rules: CreditRules
    uploads: Uploads
    today: Callable[[], date]

    def subject_id(self, id_number: str | None, credit_code: str | None) -> UUID:
        return self.subject(id_number, credit_code).id

    def subject(self, id_number: str | None, credit_code: str | None) -> Subject:
        """The citizen or the enterprise named by exactly one of the two; it must exist."""
        if (id_number is None) == (credit_code is None):
            raise UserError(
                ErrorCode.INVALID_ARGUMENT, "Name a citizen's idNumber or a creditCode", "subject"
            )
        if id_number is not None:
            found = Subject(self.ids.citizen(validate_resident_id(id_number)), SubjectKind.CITIZEN)
        else:
            code = validate_credit_code(credit_code or "")
            found = Subject(self.ids.enterprise(code), SubjectKind.ENTERPRISE)
        if not self.files.exists(found.id):
            raise UserError(ErrorCode.NOT_FOUND, "No such citizen or enterprise", "subject")
        return found

    def record_change(
        self,
        actor: Principal | None,
        id_number: str | None,
        credit_code: str | None,
        delta: int,
        reason: str,
        decision: str,
        severity: Severity | None,
    ) -> int:
        """An authority's reward or penalty for a citizen (by ID number) or an enterprise
        (by credit code), cited by its decision's number; a penalty says its severity, a
        reward none. Sent again, it changes nothing. A citizen's is never published."""
        source = policy.authority_feed(actor)
        subject = self.subject(id_number, credit_code)
        if isinstance(delta, bool) or not isinstance(delta, int) or not 0 < abs(delta) <= MAX_DELTA:
            raise UserError(
                ErrorCode.INVALID_DELTA, f"A change is 1 to {MAX_DELTA} points either way", "delta"
            )
        if (delta < 0) != (severity is not None):
            raise UserError(
                ErrorCode.INVALID_ARGUMENT,
                "A penalty has a severity; a reward has none",
                "severity",
            )
        reason = _code(reason, "reason")
        number = _number(decision, "decision")

        def change(found: object) -> Credit | None:
            credit = opened(found, subject.id, subject.kind, self.rules.base)
            if _already(credit, source, number, delta):
                return None
            credit.change(
                delta,
                reason,
                source,
                severity=severity.value if severity else "",
                decision=number,
            )
            return credit

        return self._change_credit(subject.id, change)

    def record_penalty(self, actor: Principal | None, penalty: PenaltyDecision) -> tuple[UUID, int]:
        """An enterprise's administrative penalty: published (双公示) and its severity's
        points taken from its score, together."""
        authority = policy.authority_feed(actor)
        code = validate_credit_code(penalty.credit_code)
        enterprise = self.files.find(self.ids.enterprise(code))
        if not isinstance(enterprise, Enterprise):
            raise UserError(ErrorCode.NOT_FOUND, "No enterprise has this credit code", "creditCode")
        number = _number(penalty.number, "number")
        if penalty.decided > self.today():
            raise UserError(
                ErrorCode.INVALID_DATE, "A decision is dated today or before", "decided"
            )
        publication = self.rules.penalties[penalty.severity]
        record_id = public_record_id(RecordKind.PENALTY, authority, number)
        published = dict(
            kind=RecordKind.PENALTY.value,
            number=number,
            enterprise=enterprise.id,
            credit_code=code,
            name=enterprise.name,
            item=_text(penalty.item, "item"),
            reason=_text(penalty.reason, "reason"),
            legal_basis=_text(penalty.legal_basis, "legalBasis"),
            result=_text(penalty.result, "result"),
            authority=authority,
            decided=penalty.decided.isoformat(),
            severity=penalty.severity.value,
            points=0,  # what it takes, once known: the score may stop it at 0
            repairable_from=publication.repairable_from(penalty.decided).isoformat(),
            published_until=publication.ends_on(penalty.decided).isoformat(),
            evidence=None,
        )

        def attempt() -> tuple[UUID, int]:
            found = self.files.find(record_id)
            if isinstance(found, PublicRecord):
                if any(getattr(found, k) != published[k] for k in SAME_DECISION):
                    raise UserError(
                        ErrorCode.DECISION_NUMBER_REUSED,
                        "This authority recorded another decision under this number",
                        "number",
                    )
                return record_id, self.files.head()
            credit = opened(
                self.files.find(credit_id(enterprise.id)),
                enterprise.id,
                SubjectKind.ENTERPRISE,
                self.rules.base,
            )
            before = credit.score or 0
            credit.change(
                -publication.points,
                PENALTY_DECISION,
                authority,
                severity=penalty.severity.value,
                decision=number,
            )
            taken = before - (credit.score or 0)  # a repair gives back this, no more
            record = PublicRecord(id=record_id, **published | {"points": taken})  # type: ignore[call-arg, arg-type]
            return record_id, self.files.commit(record, credit)

        return self.files.retrying(attempt)

    def apply_for_repair(
        self, actor: Principal | None, record_id: UUID, commitment: str, materials: list[str]
    ) -> tuple[UUID, int]:
        """信用修复: the enterprise's commitment and its evidence (uploads), once the
        penalty's minimum publication period is over (REPAIR_TOO_EARLY says when)."""
        record = self.files.read(PublicRecord, record_id, "penaltyId")
        enterprise = self.files.read(Enterprise, record.enterprise, "penaltyId")
        applicant = policy.acts_for_credit(actor, enterprise)
        commitment = " ".join(commitment.split())
        if not 20 <= len(commitment) <= MAX_COMMITMENT:
            raise UserError(
                ErrorCode.INVALID_ARGUMENT,
                f"Write the commitment in 20 to {MAX_COMMITMENT} characters",
                "commitment",
            )
        self._check_materials(applicant, materials)
        repair = uuid4()

        def apply(record: PublicRecord) -> None:
            record.apply_for_repair(
                repair, applicant, commitment, list(materials), self.today().isoformat()
            )

        return repair, self.files.update(PublicRecord, record_id, apply)

    def decide_repair(
        self, actor: Principal | None, record_id: UUID, repair: UUID, approve: bool, reason: str
    ) -> int:
        """An officer of the deciding authority approves (the points come back and the
        publication ends) or refuses, saying why."""

        def attempt() -> int:
            record = self.files.get(PublicRecord, record_id, "penaltyId")
            officer = policy.repair_officer(actor, record.authority)
            why = validate_reason(reason, "reason")
            record.decide_repair(repair, officer, approve, why, self.today().isoformat())
            if not approve:
                return self.files.commit(record)
            credit = self.files.get(Credit, credit_id(record.enterprise))
            credit.change(record.points, CREDIT_REPAIRED, record.authority, decision=record.number)
            return self.files.commit(record, credit)

        return self.files.retrying(attempt)

    def expire(self, record_id: UUID) -> bool:
        """End a record's publication if its period is over (the sweep's; decided again on
        the record itself)."""
        ended = False

        def expire(record: PublicRecord) -> None:
            nonlocal ended
            ended = record.expire_if_due(self.today().isoformat())

        self.files.update(PublicRecord, record_id, expire)
        return ended

    def _change_credit(self, subject: UUID, change: Callable[[object], Credit | None]) -> int:
        def attempt() -> int:
            credit = change(self.files.find(credit_id(subject)))
            return self.files.head() if credit is None else self.files.commit(credit)

        return self.files.retrying(attempt)

    def _check_materials(self, uploader: UUID, materials: list[str]) -> None:
        if len(materials) > MAX_MATERIALS:
            raise UserError(
                ErrorCode.TOO_MANY_ITEMS, f"At most {MAX_MATERIALS} materials", "materials"
            )
        for i, reference in enumerate(materials):
            digest = reference.removeprefix(DOCUMENT)
            if not reference.startswith(DOCUMENT) or not self.uploads.exists(uploader, digest):
                raise UserError(
                    ErrorCode.UPLOAD_NOT_FOUND,
                    "Upload the document first and give it as document:<sha256>",
                    f"materials[{i}]",
                )


def _already(credit: Credit, source: str, number: str, delta: int) -> bool:
    """Whether this decision was recorded before: the same change, or a refusal."""
    before = credit.decisions.get(f"{source}:{number}")
    if before is None:
        return False
    if before != delta:
        raise UserError(
            ErrorCode.DECISION_NUMBER_REUSED,
            "This authority recorded another change under this decision number",
            "decision",
        )
    return True


def _code(value: str, field: str) -> str:
    if not CODE[0].match(value):
        raise UserError(ErrorCode.INVALID_ARGUMENT, f"Expected {CODE[1]}", field)
    return value


def _number(value: str, field: str) -> str:
    if not _NUMBER.match(value) or not value.isprintable() or value != value.strip():
        raise UserError(
            ErrorCode.INVALID_ARGUMENT,
            f"A decision's number is 1 to {MAX_NUMBER} printable characters, no '|'",
            field,
        )
    return value


def _text(value: str, field: str) -> str:
    text = " ".join(value.split())
    if not 0 < len(text) <= MAX_TEXT or not text.isprintable():
        raise UserError(
            ErrorCode.INVALID_ARGUMENT, f"Expected 1 to {MAX_TEXT} printable characters", field
        )
    return text
