"""An application for a government service (一网通办), from submission to its rating.

The application is a file of its own, on its applicant's behalf: every event names the
applicant (a citizen or an enterprise) whose data key seals the form's answers, so erasing
the applicant shreds them. A joint application (marriage registration) has a co-applicant,
who confirms it as submitted. The catalogue, the
calendar and the officers' department are the use case's business: the aggregate is told
what was decided (the due date, the material accepted as missing) and keeps the rules of
the lifecycle itself.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from mycity.domain.application_status import BAD_GRADES, OPEN, Grade, Status
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.personal import Kind, Retention, not_personal, personal

Materials = dict[str, str]  # material code -> "licence:<licence id>" or "document:<sha256>"


def _answers(form: dict[str, str] | None) -> dict[str, str] | None:
    """The form's answers as recorded; None once the applicant's key is shredded."""
    return None if form is None else dict(form)


def reason_text(reason: str, field: str = "reason") -> str:
    text = reason.strip()
    if not 2 <= len(text) <= 500:
        raise UserError(ErrorCode.INVALID_REASON, "Give a reason of 2 to 500 characters", field)
    return text


@personal(
    subject="applicant", retention=Retention.STATUTORY_RECORD, form=Kind.TEXT, comment=Kind.TEXT
)
class Application(Aggregate):
    """The form's answers are sealed in snapshots under the applicant's key."""

    id: UUID

    @not_personal(
        "item",
        "department",
        "applicant",
        "applicant_kind",
        "co_applicant",
        "by",
        "materials",
        "fee_fen",
        "bundle",
        "parts",
    )
    @personal(subject="applicant", retention=Retention.STATUTORY_RECORD, form=Kind.TEXT)
    class Submitted(Aggregate.Created):
        item: str
        department: str
        applicant: UUID
        applicant_kind: str  # CITIZEN or ENTERPRISE
        co_applicant: UUID | None
        by: UUID  # the citizen who submitted (the applicant, or the enterprise's agent)
        form: dict[str, str]
        materials: Materials
        fee_fen: int
        bundle: UUID | None  # the one-thing bundle this item was opened by
        parts: list[UUID]  # a bundle's own items

    @not_personal("co_applicant")
    class Confirmed(Aggregate.Event):
        """The co-applicant agrees to the application as submitted."""

        co_applicant: UUID

    @not_personal("applicant", "materials")
    @personal(subject="applicant", retention=Retention.STATUTORY_RECORD, form=Kind.TEXT)
    class Resubmitted(Aggregate.Event):
        applicant: UUID
        form: dict[str, str]
        materials: Materials

    @not_personal("officer", "found", "due", "missing", "missing_due")
    class Accepted(Aggregate.Event):
        officer: str
        found: Materials  # materials the wallet held by now (a bundle's first licence)
        due: str  # the promised date, in working days from acceptance
        missing: str  # 容缺: the non-key material accepted as missing ("" if none)
        missing_due: str  # when it must be supplied

    @not_personal("officer", "reason", "materials")
    class CorrectionRequested(Aggregate.Event):
        officer: str
        reason: str
        materials: list[str]

    @not_personal("material", "reference")
    class MaterialSupplied(Aggregate.Event):
        material: str
        reference: str

    @not_personal("material")
    class AcceptanceLapsed(Aggregate.Event):
        material: str

    @not_personal("officer")
    class Approved(Aggregate.Event):
        officer: str

    @not_personal("officer", "reason")
    class Rejected(Aggregate.Event):
        officer: str
        reason: str

    @not_personal("licences", "enterprise")
    class LicencesIssued(Aggregate.Event):
        """The issuance process's answer to the approval: the licences (and for an
        establishment registration, the enterprise) it recorded."""

        licences: list[UUID]
        enterprise: UUID | None

    @not_personal("by")
    class Completed(Aggregate.Event):
        by: str

    @not_personal("by")
    @personal(subject="by", retention=Retention.STATUTORY_RECORD, reason=Kind.TEXT)
    class Withdrawn(Aggregate.Event):
        by: UUID
        reason: str

    @not_personal("applicant", "grade", "follow_up")
    @personal(subject="applicant", retention=Retention.STATUTORY_RECORD, comment=Kind.TEXT)
    class Rated(Aggregate.Event):
        applicant: UUID
        grade: str
        comment: str
        follow_up: bool  # a bad grade opens a follow-up the department must close

    @not_personal("officer", "note")
    class FollowUpClosed(Aggregate.Event):
        officer: str
        note: str

    @event(Submitted)
    def __init__(
        self,
        item: str,
        department: str,
        applicant: UUID,
        applicant_kind: str,
        co_applicant: UUID | None,
        by: UUID,
        form: dict[str, str] | None,  # None: read after the applicant's erasure
        materials: Materials,
        fee_fen: int,
        bundle: UUID | None,
        parts: list[UUID],
    ) -> None:
        self.item = item
        self.department = department
        self.applicant = applicant
        self.applicant_kind = applicant_kind
        self.co_applicant = co_applicant
        self.form = _answers(form)
        self.materials = dict(materials)
        self.fee_fen = fee_fen
        self.bundle = bundle
        self.parts = list(parts)
        self.status: str = (
            Status.IN_PROGRESS
            if parts
            else Status.AWAITING_CONFIRMATION
            if co_applicant
            else Status.SUBMITTED
        )
        self.due = ""
        self.missing = ""
        self.missing_due = ""
        self.licences: list[UUID] = []
        self.enterprise: UUID | None = None
        self.issued = False
        self.grade = ""
        self.comment = ""
        self.follow_up_open = False

    # -- the applicant ------------------------------------------------------------------

    def confirm(self, *, co_applicant: UUID) -> None:
        if co_applicant != self.co_applicant:
            raise UserError(ErrorCode.NOT_A_CO_APPLICANT, "You are not the co-applicant")
        self._require(Status.AWAITING_CONFIRMATION, "confirm")
        self._confirmed(co_applicant=co_applicant)

    @event(Confirmed)
    def _confirmed(self, co_applicant: UUID) -> None:
        self.status = Status.SUBMITTED

    def resubmit(self, *, form: dict[str, str], materials: Materials) -> None:
        """Answer a request for correction with the whole form and materials again."""
        self._require(Status.CORRECTION_REQUESTED, "resubmit")
        self._resubmitted(applicant=self.applicant, form=form, materials=materials)

    @event(Resubmitted)
    def _resubmitted(
        self, applicant: UUID, form: dict[str, str] | None, materials: Materials
    ) -> None:
        self.form = _answers(form)
        self.materials = dict(materials)
        self.status = Status.SUBMITTED

    def supply(self, *, material: str, reference: str) -> None:
        """Supply the material that was accepted as missing."""
        self._require(Status.ACCEPTED, "supply a material")
        if material != self.missing:
            raise UserError(ErrorCode.MATERIAL_MISSING, "No such material is owed", "material")
        self._material_supplied(material=material, reference=reference)

    @event(MaterialSupplied)
    def _material_supplied(self, material: str, reference: str) -> None:
        self.materials[material] = reference
        self.missing = self.missing_due = ""

    def withdraw(self, *, by: UUID, reason: str) -> None:
        if self.status not in OPEN or self.status == Status.APPROVED:
            raise self._illegal("withdraw")
        self._withdrawn(by=by, reason=reason_text(reason))

    @event(Withdrawn)
    def _withdrawn(self, by: UUID, reason: str) -> None:
        self.status = Status.WITHDRAWN

    def rate(self, *, grade: Grade, comment: str) -> None:
        self._require(Status.COMPLETED, "rate")
        if self.grade:
            raise UserError(ErrorCode.ALREADY_RATED, "Already rated")
        text = comment.strip()
        if len(text) > 500:
            raise UserError(ErrorCode.INVALID_REASON, "Keep the comment to 500 characters")
        self._rated(
            applicant=self.applicant, grade=grade.value, comment=text, follow_up=grade in BAD_GRADES
        )

    @event(Rated)
    def _rated(self, applicant: UUID, grade: str, comment: str, follow_up: bool) -> None:
        self.grade = grade
        self.comment = comment
        self.follow_up_open = follow_up

    # -- the department -------------------------------------------------------------------

    def accept(
        self,
        *,
        officer: str,
        due: date,
        found: Materials,
        missing: str = "",
        missing_due: date | None = None,
    ) -> None:
        self._require(Status.SUBMITTED, "accept")
        self._accepted(
            officer=officer,
            found=found,
            due=due.isoformat(),
            missing=missing,
            missing_due=missing_due.isoformat() if missing_due else "",
        )

    @event(Accepted)
    def _accepted(
        self, officer: str, found: Materials, due: str, missing: str, missing_due: str
    ) -> None:
        self.materials.update(found)
        self.status = Status.ACCEPTED
        self.due = due
        self.missing = missing
        self.missing_due = missing_due

    def request_correction(self, *, officer: str, reason: str, materials: list[str]) -> None:
        self._require(Status.SUBMITTED, "request a correction")
        self._correction_requested(officer=officer, reason=reason_text(reason), materials=materials)

    @event(CorrectionRequested)
    def _correction_requested(self, officer: str, reason: str, materials: list[str]) -> None:
        self.status = Status.CORRECTION_REQUESTED

    def lapse(self, *, today: date) -> bool:
        """Lapse the acceptance if the missing material's due date has passed."""
        if self.status != Status.ACCEPTED or not self.missing:
            return False
        if date.fromisoformat(self.missing_due) >= today:
            return False
        self._acceptance_lapsed(material=self.missing)
        return True

    @event(AcceptanceLapsed)
    def _acceptance_lapsed(self, material: str) -> None:
        self.status = Status.LAPSED

    def approve(self, *, officer: str) -> None:
        self._require(Status.ACCEPTED, "approve")
        if self.missing:
            raise UserError(
                ErrorCode.MATERIAL_MISSING, f"The material {self.missing} is still owed"
            )
        self._approved(officer=officer)

    @event(Approved)
    def _approved(self, officer: str) -> None:
        self.status = Status.APPROVED

    def reject(self, *, officer: str, reason: str) -> None:
        if self.status not in (Status.SUBMITTED, Status.ACCEPTED, Status.CORRECTION_REQUESTED):
            raise self._illegal("reject")
        self._rejected(officer=officer, reason=reason_text(reason))

    @event(Rejected)
    def _rejected(self, officer: str, reason: str) -> None:
        self.status = Status.REJECTED

    def record_issue(self, *, licences: list[UUID], enterprise: UUID | None) -> None:
        if not self.issued:
            self._licences_issued(licences=licences, enterprise=enterprise)

    @event(LicencesIssued)
    def _licences_issued(self, licences: list[UUID], enterprise: UUID | None) -> None:
        self.licences = list(licences)
        self.enterprise = enterprise
        self.issued = True

    def complete(self, *, by: str, fee_paid: bool, licensing: bool) -> None:
        """办结: after approval, once the fee is paid and any licence has been issued."""
        self._require(Status.APPROVED, "complete")
        if not fee_paid:
            raise UserError(ErrorCode.FEE_UNPAID, f"The fee of {self.fee_fen} fen is unpaid")
        if licensing and not self.issued:
            raise UserError(ErrorCode.ILLEGAL_TRANSITION, "The licence is not issued yet")
        self._completed(by=by)

    def complete_bundle(self, *, by: str) -> None:
        """A bundle completes when all its items have (its own status says nothing else)."""
        if self.status != Status.COMPLETED:
            self._completed(by=by)

    @event(Completed)
    def _completed(self, by: str) -> None:
        self.status = Status.COMPLETED

    def close_follow_up(self, *, officer: str, note: str) -> None:
        if not self.follow_up_open:
            raise UserError(ErrorCode.NO_FOLLOW_UP, "No follow-up is open")
        self._follow_up_closed(officer=officer, note=reason_text(note, "note"))

    @event(FollowUpClosed)
    def _follow_up_closed(self, officer: str, note: str) -> None:
        self.follow_up_open = False

    # -- rules --------------------------------------------------------------------------

    @property
    def holders(self) -> list[UUID]:
        """Who holds what approval issues: each applicant of a joint item."""
        return [self.applicant] + ([self.co_applicant] if self.co_applicant else [])

    def _require(self, status: Status, action: str) -> None:
        if self.status != status:
            raise self._illegal(action)

    def _illegal(self, action: str) -> UserError:
        return UserError(
            ErrorCode.ILLEGAL_TRANSITION,
            f"Cannot {action} an application that is {str(self.status).lower()}",
        )
