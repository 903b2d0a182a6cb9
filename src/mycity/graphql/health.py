"""The health authority's and the institutions' feeds: a citizen's health colour, one by
one or imported in bulk, and the cards linked to the citizen's city code."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from mycity.domain.code_holder import CardKind, Colour
from mycity.domain.errors import ErrorCode
from mycity.graphql.context import Info, blocking
from mycity.graphql.errors import UserError, reports_user_errors

strawberry.enum(Colour, name="HealthColour")
strawberry.enum(CardKind)


@strawberry.enum
class ImportFormat(Enum):
    CSV = "csv"
    JSON = "json"


@strawberry.input
class SetHealthStatusInput:
    id_number: str
    colour: Colour
    reason: str
    valid_until: datetime | None = strawberry.field(
        default=None, description="With a zone; after it the colour is the rule's default."
    )


@strawberry.input
class ImportHealthStatusesInput:
    text: str = strawberry.field(
        description="CSV with a header naming id_number, colour, reason, valid_until; or a "
        "JSON array of such objects."
    )
    format: ImportFormat


@strawberry.input
class LinkCardInput:
    id_number: str
    kind: CardKind
    number: str


@strawberry.input
class UnlinkCardInput:
    id_number: str
    kind: CardKind
    reason: str


@strawberry.type
class FeedPayload:
    recorded: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ImportFailure:
    line: int
    code: ErrorCode
    field: str | None
    message: str


@strawberry.type
class ImportHealthStatusesPayload:
    changed: int = 0
    unchanged: int = strawberry.field(default=0, description="Already in force: a re-run.")
    failures: list[ImportFailure] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def recorded(info: Info, command: str, *args: object) -> FeedPayload:
    """One feed command: the use case of that name, as the calling feed."""
    use_case = getattr(info.context.city.health, command)
    info.context.wrote(await blocking(use_case, info.context.require(), *args))
    return FeedPayload(recorded=True)


@strawberry.type
class HealthMutations:
    @strawberry.mutation(description="The health authority sets one citizen's colour.")
    @reports_user_errors(FeedPayload)
    async def set_health_status(self, info: Info, input: SetHealthStatusInput) -> FeedPayload:
        return await recorded(
            info, "set_status", input.id_number, input.colour.value, input.reason, input.valid_until
        )

    @strawberry.mutation(description="Many colours at once; a bad row is reported by line.")
    @reports_user_errors(ImportHealthStatusesPayload)
    async def import_health_statuses(
        self, info: Info, input: ImportHealthStatusesInput
    ) -> ImportHealthStatusesPayload:
        report = await blocking(
            info.context.city.health.import_statuses,
            info.context.require(),
            input.text,
            input.format.value,
        )
        info.context.wrote(report.position)
        return ImportHealthStatusesPayload(
            changed=report.changed,
            unchanged=report.unchanged,
            failures=[
                ImportFailure(line=f.line, code=f.code, field=f.field, message=f.message)
                for f in report.failures
            ],
        )

    @strawberry.mutation(description="The institution issuing the card links it.")
    @reports_user_errors(FeedPayload)
    async def link_card(self, info: Info, input: LinkCardInput) -> FeedPayload:
        return await recorded(info, "link_card", input.id_number, input.kind.value, input.number)

    @strawberry.mutation
    @reports_user_errors(FeedPayload)
    async def unlink_card(self, info: Info, input: UnlinkCardInput) -> FeedPayload:
        return await recorded(info, "unlink_card", input.id_number, input.kind.value, input.reason)
