"""Object types. Each is built from a read-model row; full identifiers come from the file
itself, and only when the policy allows the caller to see them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry
from strawberry import relay

from mycity.domain.citizen import RealNameLevel
from mycity.domain.enterprise import AgentScope
from mycity.domain.errors import ErrorCode
from mycity.domain.errors import UserError as DomainUserError
from mycity.graphql.context import Info, blocking
from mycity.graphql.pagination import Connection, Edge, list_page
from mycity.identity import policy
from mycity.identity.principal import Role
from mycity.projections.machinery import Row

# The domain's enums are the schema's enums.
for _enum in (ErrorCode, RealNameLevel, AgentScope, Role):
    strawberry.enum(_enum)


@strawberry.enum
class MembershipRole(Enum):
    LEGAL_REPRESENTATIVE = "LEGAL_REPRESENTATIVE"
    AGENT = "AGENT"


@strawberry.enum
class SubjectKind(Enum):
    CITIZEN = "CITIZEN"
    ENTERPRISE = "ENTERPRISE"


@strawberry.type
class UserError:
    """Something the user can fix: which input field, a stable code, and a message."""

    field: str | None
    code: ErrorCode
    message: str

    @classmethod
    def of(cls, error: DomainUserError) -> UserError:
        return cls(field=error.field, code=error.code, message=error.message)


def parse_id(gid: relay.GlobalID, type_name: str, field: str) -> UUID:
    """A global id of the expected type, or an INVALID_ID user error."""
    try:
        if gid.type_name != type_name:
            raise ValueError(gid.type_name)
        return UUID(gid.node_id)
    except ValueError:
        raise DomainUserError(ErrorCode.INVALID_ID, f"Not a {type_name} id", field) from None


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@strawberry.type
class PersonSummary:
    """Another person as an enterprise's people see them: name and masked ID number."""

    id: relay.GlobalID
    name: str
    id_number: str


def person_summaries(rows: dict[str, Row], ids: Iterable[str]) -> dict[str, PersonSummary]:
    return {
        i: PersonSummary(
            id=relay.GlobalID("Citizen", i),
            name=rows[i]["name"],
            id_number=rows[i]["id_number_masked"],
        )
        for i in ids
        if i in rows
    }


@strawberry.type
class Membership:
    enterprise: Enterprise | None
    role: MembershipRole
    scopes: list[AgentScope]


@strawberry.type
class Citizen(relay.Node):
    """A citizen's file as its profile screen shows it."""

    id: relay.NodeID[str]
    name: str
    address: str
    real_name_level: RealNameLevel
    registered_at: datetime
    updated_at: datetime
    version: int
    row: strawberry.Private[Row]

    @classmethod
    def from_row(cls, row: Row) -> Citizen:
        return cls(
            id=row["id"],
            name=row["name"],
            address=row["address"],
            real_name_level=RealNameLevel(row["real_name_level"]),
            registered_at=_at(row["registered_at"]),
            updated_at=_at(row["updated_at"]),
            version=row["version"],
            row=row,
        )

    async def _full(self, info: Info) -> Any | None:
        """The file itself, loaded once per object, if the reader may see full identifiers."""
        principal = info.context.require()
        if not policy.sees_full_identifiers(principal, UUID(self.id)):
            return None
        if "_file" not in self.__dict__:  # idNumber and phone resolve concurrently
            self.__dict__["_file"] = asyncio.ensure_future(
                blocking(info.context.city.files.citizen, principal, UUID(self.id))
            )
        return await self.__dict__["_file"]

    @strawberry.field(description="Masked unless the reader is the person or an officer.")
    async def id_number(self, info: Info) -> str:
        full = await self._full(info)
        return str(full.id_number) if full else str(self.row["id_number_masked"])

    @strawberry.field(description="Masked unless the reader is the person or an officer.")
    async def phone(self, info: Info) -> str:
        full = await self._full(info)
        return str(full.phone) if full else str(self.row["phone_masked"])

    @strawberry.field(description="The enterprises this person represents or acts for.")
    async def enterprises(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Membership]:
        page = list_page(self.row["enterprises"], first, after)
        rows = await blocking(
            info.context.city.read_models.get_many,
            "enterprise_profile",
            [edge.node["id"] for edge in page.edges],
        )
        return Connection(
            edges=[
                Edge(
                    cursor=edge.cursor,
                    node=Membership(
                        enterprise=Enterprise.from_row(rows[m["id"]]) if m["id"] in rows else None,
                        role=MembershipRole(m["role"]),
                        scopes=[AgentScope(s) for s in m["scopes"]],
                    ),
                )
                for edge in page.edges
                for m in [edge.node]
            ],
            page_info=page.page_info,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Citizen | None]:
        return [await load_citizen(info, UUID(i)) for i in node_ids]


async def load_citizen(info: Info, citizen_id: UUID) -> Citizen | None:
    principal = info.context.require()
    if not policy.can_read_citizen(principal, citizen_id):
        raise DomainUserError(ErrorCode.FORBIDDEN, "This is another person's file")
    row = await blocking(info.context.city.read_models.get, "citizen_profile", str(citizen_id))
    return Citizen.from_row(row) if row else None


@strawberry.type
class Agent:
    person: PersonSummary | None
    scopes: list[AgentScope]
    authorised_at: datetime


@strawberry.type
class Enterprise(relay.Node):
    """An enterprise's file as its profile screen shows it."""

    id: relay.NodeID[str]
    credit_code: str
    name: str
    phone: str = strawberry.field(description="The enterprise's contact number, masked.")
    address: str
    registered_at: datetime
    updated_at: datetime
    version: int
    row: strawberry.Private[Row]

    @classmethod
    def from_row(cls, row: Row) -> Enterprise:
        return cls(
            id=row["id"],
            credit_code=row["credit_code"],
            name=row["name"],
            phone=row["phone_masked"],
            address=row["address"],
            registered_at=_at(row["registered_at"]),
            updated_at=_at(row["updated_at"]),
            version=row["version"],
            row=row,
        )

    async def _people(self, info: Info, ids: list[str]) -> dict[str, PersonSummary]:
        rows = await blocking(info.context.city.read_models.get_many, "citizen_profile", ids)
        return person_summaries(rows, ids)

    @strawberry.field
    async def legal_representative(self, info: Info) -> PersonSummary | None:
        representative = self.row["legal_representative_id"]
        return (await self._people(info, [representative])).get(representative)

    @strawberry.field
    async def agents(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Agent]:
        page = list_page(self.row["agents"], first, after)
        people = await self._people(info, [edge.node["citizen_id"] for edge in page.edges])
        return Connection(
            edges=[
                Edge(
                    cursor=edge.cursor,
                    node=Agent(
                        person=people.get(a["citizen_id"]),
                        scopes=[AgentScope(s) for s in a["scopes"]],
                        authorised_at=_at(a["authorised_at"]),
                    ),
                )
                for edge in page.edges
                for a in [edge.node]
            ],
            page_info=page.page_info,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Enterprise | None]:
        return [await load_enterprise(info, UUID(i)) for i in node_ids]


async def load_enterprise(info: Info, enterprise_id: UUID) -> Enterprise | None:
    principal = info.context.require()
    row = await blocking(
        info.context.city.read_models.get, "enterprise_profile", str(enterprise_id)
    )
    if row is None:
        return None
    members = {row["legal_representative_id"], *(a["citizen_id"] for a in row["agents"])}
    if not policy.can_read_enterprise(principal, {UUID(m) for m in members}):
        raise DomainUserError(ErrorCode.FORBIDDEN, "Not your enterprise")
    return Enterprise.from_row(row)


@strawberry.type
class DirectoryEntry:
    id: relay.GlobalID
    kind: SubjectKind
    name: str
    identifier: str = strawberry.field(
        description="The masked ID number of a citizen, or an enterprise's credit code."
    )
    real_name_level: RealNameLevel | None
    registered_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> DirectoryEntry:
        kind = SubjectKind(row["kind"])
        return cls(
            id=relay.GlobalID(kind.value.title(), row["id"]),
            kind=kind,
            name=row["name"],
            identifier=row["identifier"],
            real_name_level=RealNameLevel(row["real_name_level"])
            if row["real_name_level"]
            else None,
            registered_at=_at(row["registered_at"]),
        )


@strawberry.type
class AuthTokens:
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


@strawberry.type
class Viewer:
    """Who the caller is; `citizen` is their own file when they are a citizen."""

    subject: str
    role: Role
    name: str
    department: str | None
    citizen: Citizen | None
