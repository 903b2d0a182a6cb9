"""The directory staff search: enterprises by name prefix, citizens by their exact name."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import relay

from mycity.domain.citizen import RealNameLevel
from mycity.domain.errors import ErrorCode, UserError
from mycity.graphql.context import PURPOSE, Info
from mycity.graphql.pagination import Connection, check_first, connection, decode_cursor
from mycity.graphql.shapes import shaped
from mycity.projections.directory import DirectoryEntryView

MAX_SEARCH = 120  # the longest name


@strawberry.enum
class SubjectKind(Enum):
    CITIZEN = "CITIZEN"
    ENTERPRISE = "ENTERPRISE"


@strawberry.type
class DirectoryEntry:
    id: relay.GlobalID
    kind: SubjectKind
    name: str | None
    identifier: str | None = strawberry.field(
        description="The masked ID number of a citizen, or an enterprise's credit code."
    )
    real_name_level: RealNameLevel | None
    registered_at: datetime

    @classmethod
    def of(cls, view: DirectoryEntryView) -> DirectoryEntry:
        kind = SubjectKind(view.kind)
        return shaped(cls, view, id=relay.GlobalID(kind.value.title(), str(view.id)), kind=kind)


@strawberry.type
class DirectoryQueries:
    @strawberry.field(
        description="Staff search enterprises by name prefix and citizens by their whole "
        "name (a citizen's name is sealed; only its blind index is searchable)."
    )
    async def directory(
        self,
        info: Info,
        search: str = "",
        kind: SubjectKind | None = None,
        first: int = 20,
        after: str | None = None,
        purpose: Annotated[str | None, PURPOSE] = None,
    ) -> Connection[DirectoryEntry]:
        context = info.context
        if len(search) > MAX_SEARCH:
            raise UserError(
                ErrorCode.INVALID_ARGUMENT, f"Search by at most {MAX_SEARCH} characters", "search"
            )
        resume = decode_cursor(after, str, str) if after else None
        found = await context.read(
            context.city.reads.directory.search,
            context.require(),
            search.strip(),
            kind.value if kind else None,
            check_first(first),
            (resume[0], resume[1]) if resume else None,
            purpose,
        )
        return connection(
            [([e.name_key, str(e.id)], DirectoryEntry.of(e)) for e in found], first, after
        )
