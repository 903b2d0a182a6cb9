"""Applications for government services (一网通办): the applicant's side and the officers'.

The catalogue says what an item needs; the calendar turns its promised limit into a due
date; the aggregate keeps the lifecycle's rules. Three seams wait for later capabilities:
the applicant's credit tier (容缺受理), whether the fee is paid, and the licences a person
holds (read through the wallet, for the "no-certificate city").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from mycity.domain.application import Application, Materials
from mycity.domain.application_status import Grade
from mycity.domain.calendar import WorkCalendar
from mycity.domain.catalogue import Applicants, Catalogue, ServiceItem
from mycity.domain.citizen import Citizen
from mycity.domain.enterprise import AgentScope, Enterprise
from mycity.domain.errors import ErrorCode, Forbidden, UserError, checked
from mycity.domain.identifiers import validate_resident_id
from mycity.identity.principal import Principal
from mycity.identity.subjects import SubjectIds
from mycity.policy import applications as policy
from mycity.policy.base import require_citizen
from mycity.store.files import CityFiles
from mycity.usecases.materials import Materials as MaterialCheck
from mycity.usecases.seams import CreditTiers, Fees

SHORTFALL_WORKING_DAYS = 10  # how long a material accepted as missing may stay missing


@dataclass(frozen=True)
class Submitted:
    application: Application
    parts: list[Application]
    position: int


@dataclass(frozen=True)
class Applications:
    files: CityFiles
    ids: SubjectIds
    catalogue: Catalogue
    calendar: WorkCalendar
    materials: MaterialCheck
    credit: CreditTiers
    fees: Fees
    today: Callable[[], date]

    # -- the applicant ------------------------------------------------------------------

    def submit(
        self,
        actor: Principal,
        item_code: str,
        form: Mapping[str, str],
        materials: Mapping[str, str],
        *,
        enterprise_id: UUID | None = None,
        co_applicant_id_number: str | None = None,
    ) -> Submitted:
        """Submit an application; a bundle opens each of its items in one transaction."""
        by = self._verified(actor)
        item = self.catalogue.item(item_code)
        applicant, kind = self._applicant(item, by, enterprise_id)
        co_applicant = self._co_applicant(item, by, co_applicant_id_number)
        members = list(self.catalogue.members(item))
        # One form for a bundle (一表申请): every field its items ask for, once.
        answers = self._form([*item.form, *(f for m in members for f in m.form)], form)
        given = self.materials.resolve(applicant, by, [item, *members], materials, self.today())
        bundle_id = uuid4()
        parts = [
            self._new(
                uuid4(),
                member,
                applicant,
                kind,
                None,
                by,
                {k: v for k, v in answers.items() if k in member.form},
                {m.code: given[m.code] for m in member.materials if m.code in given},
                bundle_id,
            )
            for member in members
        ]
        application = self._new(
            bundle_id,
            item,
            applicant,
            kind,
            co_applicant,
            by,
            answers,
            given,
            None,
            [p.id for p in parts],
        )
        return Submitted(application, parts, self.files.commit(application, *parts))

    def confirm(self, actor: Principal, application_id: UUID) -> int:
        """The co-applicant of a joint item agrees to the application as submitted."""
        by = self._verified(actor)
        return self._update(application_id, lambda a: a.confirm(co_applicant=by))

    def resubmit(
        self,
        actor: Principal,
        application_id: UUID,
        form: Mapping[str, str] | None,
        materials: Mapping[str, str],
    ) -> int:
        """Answer a correction request, or supply the material accepted as missing."""

        def resubmit(application: Application) -> None:
            self._require_applicant(actor, application)
            item = self.catalogue.item(application.item)
            if application.missing and form is None:
                given = self._resolve(actor, application, item, materials)
                if application.missing not in given:
                    raise UserError(
                        ErrorCode.MATERIAL_MISSING, f"Give {application.missing}", "materials"
                    )
                application.supply(
                    material=application.missing, reference=given[application.missing]
                )
                return
            answers = self._form(item.form, form if form is not None else application.form or {})
            given = self._resolve(actor, application, item, materials)
            application.resubmit(form=answers, materials=given)

        return self._update(application_id, resubmit)

    def withdraw(self, actor: Principal, application_id: UUID, reason: str) -> int:
        def withdraw(application: Application) -> None:
            by = self._require_applicant(actor, application)
            application.withdraw(by=by, reason=reason)

        return self._update(application_id, withdraw)

    def rate(self, actor: Principal, application_id: UUID, grade: str, comment: str) -> int:
        try:
            parsed = Grade(grade)
        except ValueError:
            known = ", ".join(g.value for g in Grade)
            raise UserError(ErrorCode.INVALID_ARGUMENT, f"Grades are {known}", "grade") from None

        def rate(application: Application) -> None:
            self._require_applicant(actor, application)
            application.rate(grade=parsed, comment=comment)

        return self._update(application_id, rate)

    # -- the department -----------------------------------------------------------------

    def accept(self, actor: Principal, application_id: UUID) -> int:
        """受理: the promised limit starts today. One non-key material may be missing if the
        applicant's credit allows it (容缺受理); it is then owed within ten working days."""

        def accept(application: Application) -> None:
            officer = policy.officer_of(actor, application.department)
            item = self.catalogue.item(application.item)
            today = self.today()
            found = self.materials.found_in_wallet(
                application.applicant, item, application.materials, today
            )
            given = application.materials | found
            missing = [m for m in item.materials if m.code not in given]
            due = self.calendar.add_working_days(today, item.time_limit_days)
            if not missing:
                application.accept(officer=officer, due=due, found=found)
                return
            if len(missing) > 1 or missing[0].key:
                names = ", ".join(m.code for m in missing)
                raise UserError(ErrorCode.MATERIAL_MISSING, f"Still missing: {names}")
            if not self.credit.allows_shortfall(application.applicant):
                raise UserError(
                    ErrorCode.SHORTFALL_NOT_ALLOWED,
                    f"{missing[0].code} is missing and the applicant's credit does not allow "
                    "accepting without it: request a correction",
                )
            application.accept(
                officer=officer,
                due=due,
                found=found,
                missing=missing[0].code,
                missing_due=self.calendar.add_working_days(today, SHORTFALL_WORKING_DAYS),
            )

        return self._update(application_id, accept)

    def request_correction(
        self, actor: Principal, application_id: UUID, reason: str, materials: list[str]
    ) -> int:
        def request(application: Application) -> None:
            officer = policy.officer_of(actor, application.department)
            item = self.catalogue.item(application.item)
            known = {m.code for m in item.materials}
            if unknown := sorted(set(materials) - known):
                raise UserError(
                    ErrorCode.INVALID_ARGUMENT, f"Not this item's materials: {unknown}", "materials"
                )
            application.request_correction(officer=officer, reason=reason, materials=materials)

        return self._update(application_id, request)

    def approve(self, actor: Principal, application_id: UUID) -> int:
        return self._update(
            application_id,
            lambda a: a.approve(officer=policy.officer_of(actor, a.department)),
        )

    def reject(self, actor: Principal, application_id: UUID, reason: str) -> int:
        return self._update(
            application_id,
            lambda a: a.reject(officer=policy.officer_of(actor, a.department), reason=reason),
        )

    def complete(self, actor: Principal, application_id: UUID) -> int:
        """办结, asking the one question payments will answer: is the fee paid?"""

        def complete(application: Application) -> None:
            officer = policy.officer_of(actor, application.department)
            item = self.catalogue.item(application.item)
            application.complete(
                by=officer,
                fee_paid=self.fees.is_paid(application.id, application.fee_fen),
                licensing=item.licence is not None or item.registers_enterprise,
            )

        return self._update(application_id, complete)

    def close_follow_up(self, actor: Principal, application_id: UUID, note: str) -> int:
        return self._update(
            application_id,
            lambda a: a.close_follow_up(officer=policy.officer_of(actor, a.department), note=note),
        )

    def lapse(self, application_id: UUID) -> bool:
        """Lapse an acceptance whose missing material is overdue (the sweeper's command)."""
        lapsed: list[bool] = []
        self._update(application_id, lambda a: lapsed.append(a.lapse(today=self.today())))
        return bool(lapsed and lapsed[-1])

    # -- rules ----------------------------------------------------------------------------

    def _resolve(
        self,
        actor: Principal,
        application: Application,
        item: ServiceItem,
        materials: Mapping[str, str],
    ) -> Materials:
        """The materials as they now stand: those given before, with these over them."""
        uploader = require_citizen(actor)
        return self.materials.resolve(
            application.applicant,
            uploader,
            [item],
            {**application.materials, **materials},
            self.today(),
            application.materials,
        )

    def get(self, application_id: UUID) -> Application:
        return self.files.get(Application, application_id, "applicationId")

    def _update(self, application_id: UUID, command: Callable[[Application], object]) -> int:
        self.get(application_id)
        return self.files.update(Application, application_id, command)

    def _verified(self, actor: Principal) -> UUID:
        citizen_id = require_citizen(actor)
        citizen = self.files.read(Citizen, citizen_id)
        citizen.require_live()
        citizen.require_verified()
        return citizen_id

    def _applicant(
        self, item: ServiceItem, by: UUID, enterprise_id: UUID | None
    ) -> tuple[UUID, str]:
        if item.applicants is Applicants.ENTERPRISE:
            if enterprise_id is None:
                raise UserError(
                    ErrorCode.INVALID_ARGUMENT,
                    "This item is applied for by an enterprise",
                    "enterpriseId",
                )
            try:
                enterprise = self.files.read(Enterprise, enterprise_id)
            except UserError:
                raise Forbidden("Not your enterprise", "enterpriseId") from None
            if not enterprise.may(by, AgentScope.APPLICATIONS):
                raise Forbidden("Needs the APPLICATIONS scope for this enterprise", "enterpriseId")
            return enterprise_id, "ENTERPRISE"
        if enterprise_id is not None:
            raise UserError(
                ErrorCode.INVALID_ARGUMENT, "This item is applied for by a citizen", "enterpriseId"
            )
        return by, "CITIZEN"

    def _co_applicant(self, item: ServiceItem, by: UUID, id_number: str | None) -> UUID | None:
        if item.applicants is not Applicants.JOINT_CITIZENS:
            if id_number:
                raise UserError(
                    ErrorCode.INVALID_ARGUMENT, "This item has one applicant", "coApplicantIdNumber"
                )
            return None
        if not id_number:
            raise UserError(
                ErrorCode.INVALID_ARGUMENT, "Name the co-applicant", "coApplicantIdNumber"
            )
        other = self.ids.citizen(checked("coApplicantIdNumber", validate_resident_id, id_number))
        if other == by:
            raise UserError(
                ErrorCode.INVALID_ARGUMENT,
                "The co-applicant is someone else",
                "coApplicantIdNumber",
            )
        return other  # whoever it is, and whether they have a file, shows when they confirm

    @staticmethod
    def _form(fields: Iterable[str], form: Mapping[str, str]) -> dict[str, str]:
        """The form's answers: exactly these fields, each 1 to 500 characters."""
        wanted = list(dict.fromkeys(fields))
        unknown = sorted(set(form) - set(wanted))
        absent = [f for f in wanted if not str(form.get(f, "")).strip()]
        if unknown or absent:
            raise UserError(
                ErrorCode.INVALID_FORM,
                f"The form takes {', '.join(wanted) or 'nothing'}"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                + (f"; missing: {', '.join(absent)}" if absent else ""),
                "form",
            )
        answers = {f: str(form[f]).strip() for f in wanted}
        if too_long := [f for f, v in answers.items() if len(v) > 500]:
            raise UserError(ErrorCode.INVALID_FORM, f"Too long: {', '.join(too_long)}", "form")
        return answers

    def _require_applicant(self, actor: Principal, application: Application) -> UUID:
        by = require_citizen(actor)
        if application.applicant == by:
            return by
        if application.applicant_kind == "ENTERPRISE":
            enterprise = self.files.read(Enterprise, application.applicant)
            if enterprise.may(by, AgentScope.APPLICATIONS):
                return by
        raise Forbidden("Not your application")

    @staticmethod
    def _new(
        application_id: UUID,
        item: ServiceItem,
        applicant: UUID,
        kind: str,
        co_applicant: UUID | None,
        by: UUID,
        form: dict[str, str],
        materials: Materials,
        bundle: UUID | None,
        parts: list[UUID] | None = None,
    ) -> Application:
        return Application(  # type: ignore[call-arg]
            id=application_id,
            item=item.code,
            department=item.department,
            applicant=applicant,
            applicant_kind=kind,
            co_applicant=co_applicant,
            by=by,
            form=form,
            materials=materials,
            fee_fen=item.fee_fen,
            bundle=bundle,
            parts=parts or [],
        )
