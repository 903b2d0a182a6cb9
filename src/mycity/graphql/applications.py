"""Applications for government services: the catalogue, the applicant's list and changes,
the departments' queues, and every step of the lifecycle."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry import relay

from mycity.domain.application_status import Grade, Status
from mycity.domain.errors import ErrorCode
from mycity.domain.errors import UserError as DomainUserError
from mycity.graphql.catalogue import ServiceItemType
from mycity.graphql.context import PURPOSE, Info, blocking
from mycity.graphql.errors import UserError, parse_id, reports_user_errors
from mycity.graphql.feed import FileChange
from mycity.graphql.pagination import Connection, check_first, keyed_page, keyset
from mycity.graphql.shapes import shaped
from mycity.policy.base import require_citizen
from mycity.projections.application_list import ApplicationRow
from mycity.projections.ratings import RatingStats

strawberry.enum(Status, name="ApplicationStatus")
strawberry.enum(Grade)


@strawberry.type
class FormField:
    name: str
    value: str


@strawberry.type
class Application:
    id: relay.GlobalID
    item: str
    department: str
    status: Status
    applicant_kind: str
    submitted_at: datetime
    updated_at: datetime
    due: date | None = strawberry.field(description="The promised date, once accepted.")
    missing: str | None = strawberry.field(description="A material accepted as missing (容缺).")
    missing_due: date | None
    fee_fen: int
    grade: Grade | None
    follow_up_open: bool
    version: int
    row: strawberry.Private[ApplicationRow]
    purpose: strawberry.Private[str | None]

    @classmethod
    def of(cls, row: ApplicationRow, purpose: str | None = None) -> Application:
        return shaped(
            cls,
            row,
            id=relay.GlobalID("Application", str(row.id)),
            missing=row.missing or None,
            row=row,
            purpose=purpose,
        )

    @strawberry.field
    def service_item(self, info: Info) -> ServiceItemType:
        catalogue = info.context.city.catalogue
        return ServiceItemType.of(catalogue.item(self.row.item), catalogue)

    @strawberry.field(description="The form's answers: officers read them for a purpose.")
    async def form(
        self, info: Info, purpose: Annotated[str | None, PURPOSE] = None
    ) -> list[FormField] | None:
        context = info.context
        answers = await context.read(
            context.city.reads.applications.form,
            context.require(),
            self.row.id,
            purpose or self.purpose,
        )
        return None if answers is None else [FormField(name=k, value=v) for k, v in answers.items()]


def application_page(
    rows: list[ApplicationRow], first: int, after: str | None, *, queue: bool
) -> Connection[Application]:
    keyed = [(row.queue_cursor if queue else row.mine_cursor, Application.of(row)) for row in rows]
    return keyed_page(keyed, first, after)


@strawberry.type(name="RatingStatistics")
class RatingStatisticsType:
    """好差评 of one department: how many of each grade, and its follow-ups."""

    department: str
    very_satisfied: int
    satisfied: int
    basically_satisfied: int
    dissatisfied: int
    very_dissatisfied: int
    total: int
    follow_ups_open: int
    follow_ups_closed: int

    @classmethod
    def of(cls, stats: RatingStats) -> RatingStatisticsType:
        return shaped(cls, stats)


@strawberry.input
class FormFieldInput:
    name: str
    value: str


@strawberry.input
class MaterialInput:
    code: str
    document: str | None = strawberry.field(default=None, description="An upload's SHA-256.")
    licence: str | None = strawberry.field(default=None, description="A held licence's identifier.")


def answers(form: list[FormFieldInput] | None) -> dict[str, str] | None:
    return None if form is None else {f.name: f.value for f in form}


def references(materials: list[MaterialInput]) -> dict[str, str]:
    given = {}
    for m in materials:
        if (m.document is None) == (m.licence is None):
            raise DomainUserError(
                ErrorCode.INVALID_ARGUMENT, "Give a document or a licence", f"materials.{m.code}"
            )
        given[m.code] = f"document:{m.document}" if m.document else f"licence:{m.licence}"
    return given


@strawberry.input
class SubmitApplicationInput:
    item_code: str
    form: list[FormFieldInput] = strawberry.field(default_factory=list)
    materials: list[MaterialInput] = strawberry.field(default_factory=list)
    enterprise_id: relay.GlobalID | None = strawberry.field(
        default=None, description="For an item an enterprise applies for."
    )
    co_applicant_id_number: str | None = strawberry.field(
        default=None, description="For a joint item: the other applicant, who confirms."
    )


@strawberry.input
class ApplicationInput:
    application_id: relay.GlobalID


@strawberry.input
class ResubmitApplicationInput:
    application_id: relay.GlobalID
    form: list[FormFieldInput] | None = strawberry.field(
        default=None, description="The whole form again; leave out to supply a material only."
    )
    materials: list[MaterialInput] = strawberry.field(default_factory=list)


@strawberry.input
class ReasonedApplicationInput:
    application_id: relay.GlobalID
    reason: str


@strawberry.input
class RequestCorrectionInput:
    application_id: relay.GlobalID
    reason: str
    materials: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class RateApplicationInput:
    application_id: relay.GlobalID
    grade: Grade
    comment: str = ""


@strawberry.input
class CloseFollowUpInput:
    application_id: relay.GlobalID
    note: str


@strawberry.type
class ApplicationPayload:
    changed: strawberry.Private[UUID | None] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @strawberry.field(description="The application's id, known even before its lists show it.")
    def application_id(self) -> relay.GlobalID | None:
        return None if self.changed is None else relay.GlobalID("Application", str(self.changed))

    @strawberry.field(
        description="As the lists show it: null if they lag (see extensions.readModelsLag)."
    )
    async def application(self, info: Info) -> Application | None:
        if self.changed is None:
            return None
        context = info.context
        row = await context.read(
            context.city.reads.applications.get, context.require(), self.changed
        )
        return Application.of(row) if row else None


async def changed(info: Info, application_id: UUID, position: int) -> ApplicationPayload:
    info.context.wrote(position)
    return ApplicationPayload(changed=application_id)


async def step(info: Info, command: str, gid: relay.GlobalID, *args: object) -> ApplicationPayload:
    """One step of the lifecycle: the use case of that name, on the application."""
    application_id = parse_id(gid, "Application", "applicationId")
    use_case = getattr(info.context.city.applications, command)
    position = await blocking(use_case, info.context.require(), application_id, *args)
    return await changed(info, application_id, position)


async def officers_list(
    info: Info, read: str, first: int, after: str | None
) -> Connection[Application]:
    """A page of one of the officer's department's lists, by due date."""
    context = info.context
    rows = await context.read(
        getattr(context.city.reads.applications, read),
        context.require(),
        check_first(first),
        keyset(after),
    )
    return application_page(rows, first, after, queue=True)


@strawberry.type
class ApplicationQueries:
    @strawberry.field(description="The catalogue of service items.")
    def service_items(self, info: Info, department: str | None = None) -> list[ServiceItemType]:
        catalogue = info.context.city.catalogue
        items = catalogue.of_department(department) if department else catalogue.items.values()
        return [ServiceItemType.of(item, catalogue) for item in items]

    @strawberry.field(description="The caller's applications, or their enterprise's.")
    async def my_applications(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        enterprise_id: relay.GlobalID | None = None,
    ) -> Connection[Application]:
        context = info.context
        enterprise = (
            parse_id(enterprise_id, "Enterprise", "enterpriseId") if enterprise_id else None
        )
        rows = await context.read(
            context.city.reads.applications.mine,
            context.require(),
            enterprise,
            check_first(first),
            keyset(after),
        )
        return application_page(rows, first, after, queue=False)

    @strawberry.field(description="The officer's department's open applications, by due date.")
    async def department_queue(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Application]:
        return await officers_list(info, "queue", first, after)

    @strawberry.field(description="The officer's department's applications past their due date.")
    async def overdue_applications(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Application]:
        return await officers_list(info, "overdue", first, after)

    @strawberry.field(description="好差评 statistics, of one department or of all.")
    async def rating_statistics(
        self, info: Info, department: str | None = None
    ) -> list[RatingStatisticsType]:
        context = info.context
        found = await context.read(
            context.city.reads.applications.rating_statistics, context.require(), department
        )
        return [RatingStatisticsType.of(stats) for stats in found]


@strawberry.type
class ApplicationMutations:
    @strawberry.mutation(description="Apply; a bundle opens each of its items at once.")
    @reports_user_errors(ApplicationPayload)
    async def submit_application(
        self, info: Info, input: SubmitApplicationInput
    ) -> ApplicationPayload:
        enterprise = (
            parse_id(input.enterprise_id, "Enterprise", "enterpriseId")
            if input.enterprise_id
            else None
        )
        submitted = await blocking(
            info.context.city.applications.submit,
            info.context.require(),
            input.item_code,
            answers(input.form) or {},
            references(input.materials),
            enterprise_id=enterprise,
            co_applicant_id_number=input.co_applicant_id_number,
        )
        return await changed(info, submitted.application.id, submitted.position)

    @strawberry.mutation(description="The co-applicant of a joint item agrees to it.")
    @reports_user_errors(ApplicationPayload)
    async def confirm_joint_application(
        self, info: Info, input: ApplicationInput
    ) -> ApplicationPayload:
        return await step(info, "confirm", input.application_id)

    @strawberry.mutation(description="Answer a correction, or supply a material owed.")
    @reports_user_errors(ApplicationPayload)
    async def resubmit_application(
        self, info: Info, input: ResubmitApplicationInput
    ) -> ApplicationPayload:
        return await step(
            info, "resubmit", input.application_id, answers(input.form), references(input.materials)
        )

    @strawberry.mutation
    @reports_user_errors(ApplicationPayload)
    async def withdraw_application(
        self, info: Info, input: ReasonedApplicationInput
    ) -> ApplicationPayload:
        return await step(info, "withdraw", input.application_id, input.reason)

    @strawberry.mutation(description="受理: the promised time limit starts.")
    @reports_user_errors(ApplicationPayload)
    async def accept_application(self, info: Info, input: ApplicationInput) -> ApplicationPayload:
        return await step(info, "accept", input.application_id)

    @strawberry.mutation(description="补正: ask the applicant to correct the form or materials.")
    @reports_user_errors(ApplicationPayload)
    async def request_correction(
        self, info: Info, input: RequestCorrectionInput
    ) -> ApplicationPayload:
        return await step(
            info, "request_correction", input.application_id, input.reason, input.materials
        )

    @strawberry.mutation(description="Approve: a licensing item's licences are then issued.")
    @reports_user_errors(ApplicationPayload)
    async def approve_application(self, info: Info, input: ApplicationInput) -> ApplicationPayload:
        return await step(info, "approve", input.application_id)

    @strawberry.mutation
    @reports_user_errors(ApplicationPayload)
    async def reject_application(
        self, info: Info, input: ReasonedApplicationInput
    ) -> ApplicationPayload:
        return await step(info, "reject", input.application_id, input.reason)

    @strawberry.mutation(description="办结: once the fee is paid and any licence issued.")
    @reports_user_errors(ApplicationPayload)
    async def complete_application(self, info: Info, input: ApplicationInput) -> ApplicationPayload:
        return await step(info, "complete", input.application_id)

    @strawberry.mutation(
        description="好差评: once, after completion; a bad grade opens a follow-up."
    )
    @reports_user_errors(ApplicationPayload)
    async def rate_application(self, info: Info, input: RateApplicationInput) -> ApplicationPayload:
        return await step(info, "rate", input.application_id, input.grade.value, input.comment)

    @strawberry.mutation(description="The department closes the follow-up of a bad rating.")
    @reports_user_errors(ApplicationPayload)
    async def close_rating_follow_up(
        self, info: Info, input: CloseFollowUpInput
    ) -> ApplicationPayload:
        return await step(info, "close_follow_up", input.application_id, input.note)


@strawberry.type
class ApplicationSubscriptions:
    @strawberry.subscription(description="Each change of the caller's applications.")
    async def my_application_changes(self, info: Info) -> AsyncGenerator[FileChange, None]:
        context = info.context
        citizen_id = require_citizen(context.require())
        async for change in context.while_signed_in(context.feed.on_behalf_of(citizen_id)):
            yield change
