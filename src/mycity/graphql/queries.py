"""Queries: the caller, one file by id, any node, and the officers' directory."""

from __future__ import annotations

import strawberry
from strawberry import relay

from mycity.domain.errors import Forbidden
from mycity.graphql.context import Info, blocking
from mycity.graphql.pagination import Connection, check_first, connection, decode_cursor
from mycity.graphql.types import (
    Citizen,
    DirectoryEntry,
    Enterprise,
    SubjectKind,
    Viewer,
    load_citizen,
    load_enterprise,
    parse_id,
)
from mycity.identity import policy


@strawberry.type
class Query:
    node: relay.Node | None = relay.node()

    @strawberry.field(description="The caller. Fails with UNAUTHENTICATED without a token.")
    async def me(self, info: Info) -> Viewer:
        principal = info.context.require()
        citizen_id = principal.citizen_id
        return Viewer(
            subject=principal.subject,
            role=principal.role,
            name=principal.name,
            department=principal.department,
            citizen=await load_citizen(info, citizen_id) if citizen_id else None,
        )

    @strawberry.field(description="A citizen's file: the person themself, or staff.")
    async def citizen(self, info: Info, id: relay.GlobalID) -> Citizen | None:
        return await load_citizen(info, parse_id(id, "Citizen", "id"))

    @strawberry.field(description="An enterprise: its legal representative and agents, or staff.")
    async def enterprise(self, info: Info, id: relay.GlobalID) -> Enterprise | None:
        return await load_enterprise(info, parse_id(id, "Enterprise", "id"))

    @strawberry.field(description="Staff search citizens and enterprises by name prefix.")
    async def directory(
        self,
        info: Info,
        search: str = "",
        kind: SubjectKind | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[DirectoryEntry]:
        if not policy.can_search_directory(info.context.require()):
            raise Forbidden("The directory is for staff")
        resume = decode_cursor(after, str, str) if after else None
        rows = await blocking(
            info.context.city.read_models.search_directory,
            search.strip(),
            kind.value if kind else None,
            check_first(first) + 1,
            (resume[0], resume[1]) if resume else None,
        )
        found = [([r["name_key"], r["id"]], DirectoryEntry.from_row(r)) for r in rows]
        return connection(found, first, after)
