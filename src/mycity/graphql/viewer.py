"""The caller (`me`) and any object by its global id (`node`)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from mycity.graphql.citizens import Citizen, load_citizen
from mycity.graphql.context import Info
from mycity.identity.principal import Role

strawberry.enum(Role)


@strawberry.type
class Viewer:
    """Who the caller is; `citizen` is their own file when they are a citizen."""

    subject: str
    role: Role
    name: str
    department: str | None
    citizen: Citizen | None


@strawberry.type
class ViewerQueries:
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
