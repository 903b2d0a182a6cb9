"""The caller (`me`) and any object by its global id (`node`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry
from strawberry import relay

from mycity.domain.errors import ErrorCode, UserError
from mycity.graphql.citizens import Citizen, asks_identifiers, load_citizen, selected
from mycity.graphql.context import PURPOSE, Info
from mycity.graphql.enterprises import load_enterprise
from mycity.graphql.errors import parse_id
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


ASKED_CACHE_SIZE = 512
asked: dict[tuple[str | None, str | None, str | int], bool] = {}


def asks_for_identifiers(info: Info) -> bool:
    """Whether this `me` asks for its citizen's idNumber or phone, remembered by the
    query's text (what decides it): strawberry builds a request's selections anew from
    the document each time."""
    operation = info.operation
    key = (info.query, operation.name.value if operation.name else None, info.path.key)
    if (found := asked.get(key)) is None:
        if len(asked) >= ASKED_CACHE_SIZE:
            asked.clear()
        selections = info.selected_fields
        found = asked[key] = asks_identifiers(
            c for me in selections for c in selected(me.selections, "citizen")
        )
    return found


@strawberry.type
class ViewerQueries:
    @strawberry.field
    async def node(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The ID of the object.")],
        purpose: Annotated[str | None, PURPOSE] = None,
    ) -> relay.Node | None:
        """Any object by its global id; one of an unknown type, or malformed, is INVALID_ID."""
        loaders: dict[str, Callable[..., Awaitable[relay.Node | None]]] = {
            "Citizen": load_citizen,
            "Enterprise": load_enterprise,
        }
        load = loaders.get(id.type_name)
        if load is None:
            raise UserError(ErrorCode.INVALID_ID, "Not the id of anything here", "id")
        found: relay.Node | None = await load(info, parse_id(id, id.type_name, "id"), purpose)
        return found

    @strawberry.field(description="The caller. Fails with UNAUTHENTICATED without a token.")
    async def me(self, info: Info) -> Viewer:
        principal = info.context.require()
        citizen_id = principal.citizen_id
        identifiers = citizen_id is not None and asks_for_identifiers(info)
        return Viewer(
            subject=principal.subject,
            role=principal.role,
            name=principal.name,
            department=principal.department,
            citizen=await load_citizen(info, citizen_id, None, identifiers=identifiers)
            if citizen_id
            else None,
        )
