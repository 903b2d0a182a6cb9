"""Who read a person's data: the person's own list (like Estonia's Data Tracker)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from mycity.graphql.context import Info
from mycity.graphql.pagination import Connection, check_first, connection, decode_cursor
from mycity.graphql.shapes import shaped
from mycity.identity.principal import Role
from mycity.projections.data_access import DataAccessView


@strawberry.type
class DataAccess:
    """One read of the person's data by staff or a partner."""

    at: datetime
    reader_role: Role
    reader_department: str | None = strawberry.field(description="An officer's department.")
    reader_name: str = strawberry.field(description="The staff or partner account's name.")
    read: str = strawberry.field(description='What was read, e.g. "citizen.profile".')
    fields: list[str] = strawberry.field(description="The fields shown.")
    unmasked: list[str] = strawberry.field(description="Of those, the ones shown in full.")
    purpose: str = strawberry.field(description="Why, as the reader stated it.")

    @classmethod
    def of(cls, view: DataAccessView) -> DataAccess:
        return shaped(
            cls,
            view,
            reader_role=Role(view.reader_role),
            reader_department=view.reader_department or None,
            fields=list(view.fields),
            unmasked=list(view.unmasked),
        )


async def data_accesses(
    info: Info, citizen_id: UUID, first: int, after: str | None, purpose: str | None
) -> Connection[DataAccess]:
    context = info.context
    before = decode_cursor(after, str, str) if after else None
    found = await context.read(
        context.city.reads.access.of_person,
        context.require(),
        citizen_id,
        check_first(first),
        (before[0], before[1]) if before else None,
        purpose,
    )
    return connection([([v.at.isoformat(), v.id], DataAccess.of(v)) for v in found], first, after)
