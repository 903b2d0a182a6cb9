"""Enterprises: their profile and people, registration, agents and contact."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry import relay

from mycity.domain.enterprise import AgentScope
from mycity.graphql.context import PURPOSE, Info, blocking
from mycity.graphql.credit import Credit
from mycity.graphql.errors import UserError, parse_id, reports_user_errors
from mycity.graphql.pagination import Connection, Edge, list_page
from mycity.graphql.shapes import shaped
from mycity.projections.citizen_profile import Membership as MembershipView
from mycity.projections.enterprise_profile import EnterpriseProfileView
from mycity.reads.enterprises import PersonSummary as PersonSummaryView

strawberry.enum(AgentScope)


@strawberry.enum
class MembershipRole(Enum):
    LEGAL_REPRESENTATIVE = "LEGAL_REPRESENTATIVE"
    AGENT = "AGENT"


@strawberry.type
class PersonSummary:
    """Another person as an enterprise's people see them: name and masked ID number."""

    id: relay.GlobalID
    name: str | None = strawberry.field(description="Null once the person's data is erased.")
    id_number: str | None

    @classmethod
    def of(cls, person: PersonSummaryView) -> PersonSummary:
        return shaped(
            cls,
            person,
            id=relay.GlobalID("Citizen", str(person.id)),
            id_number=person.id_number_masked,
        )


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
    view: strawberry.Private[EnterpriseProfileView]
    purpose: strawberry.Private[str | None]  # the reader's, for the reads nested in it

    @classmethod
    def of(cls, view: EnterpriseProfileView, purpose: str | None) -> Enterprise:
        return shaped(
            cls, view, id=str(view.id), phone=view.phone_masked, view=view, purpose=purpose
        )

    async def _people(self, info: Info, ids: list[UUID]) -> dict[UUID, PersonSummary]:
        context = info.context
        found = await context.read(
            context.city.reads.enterprises.people, context.require(), self.view, ids, self.purpose
        )
        return {i: PersonSummary.of(person) for i, person in found.items()}

    @strawberry.field
    async def legal_representative(self, info: Info) -> PersonSummary | None:
        representative = self.view.legal_representative_id
        return (await self._people(info, [representative])).get(representative)

    @strawberry.field
    async def agents(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Agent]:
        page = list_page(self.view.agents, first, after)
        people = await self._people(info, [edge.node.citizen_id for edge in page.edges])
        return Connection(
            edges=[
                Edge(
                    cursor=edge.cursor,
                    node=Agent(
                        person=people.get(edge.node.citizen_id),
                        scopes=list(edge.node.scopes),
                        authorised_at=edge.node.authorised_at,
                    ),
                )
                for edge in page.edges
            ],
            page_info=page.page_info,
        )

    @strawberry.field(description="Invitations the enterprise sent that wait for an answer.")
    async def invited_agents(self, info: Info) -> list[InvitedAgent]:
        context = info.context
        found = await context.read(
            context.city.reads.enterprises.invited, context.require(), self.view, self.purpose
        )
        return [
            InvitedAgent(
                agent_id=relay.GlobalID("Citizen", str(i.agent_id)),
                scopes=list(i.scopes),
                invited_at=i.invited_at,
            )
            for i in found
        ]

    @strawberry.field(
        description="Its city credit: for its legal representative and agents with the "
        "CREDIT scope, and for officers and auditors (with the purpose it was read with)."
    )
    async def credit(self, info: Info) -> Credit:
        context = info.context
        view = await context.read(
            context.city.reads.credit.read, context.require(), self.view.id, self.purpose
        )
        return Credit.of(view)


@strawberry.type
class InvitedAgent:
    """Someone the enterprise invited who has not answered: known only by the id their ID
    number gives (`revokeAgent` withdraws the invitation)."""

    agent_id: relay.GlobalID
    scopes: list[AgentScope]
    invited_at: datetime


async def load_enterprise(
    info: Info, enterprise_id: UUID, purpose: str | None
) -> Enterprise | None:
    context = info.context
    view = await context.read(
        context.city.reads.enterprises.profile, context.require(), enterprise_id, purpose
    )
    return Enterprise.of(view, purpose) if view else None


@strawberry.type
class Membership:
    enterprise: Enterprise | None
    role: MembershipRole
    scopes: list[AgentScope]


async def memberships(
    info: Info,
    all_of_them: tuple[MembershipView, ...],
    first: int,
    after: str | None,
    purpose: str | None,
) -> Connection[Membership]:
    """A page of a citizen's enterprises, with those the caller may read."""
    page = list_page(all_of_them, first, after)
    context = info.context
    found = await context.read(
        context.city.reads.enterprises.profiles_of,
        context.require(),
        [edge.node.enterprise_id for edge in page.edges],
        purpose,
    )
    return Connection(
        edges=[
            Edge(
                cursor=edge.cursor,
                node=Membership(
                    enterprise=Enterprise.of(found[m.enterprise_id], purpose)
                    if m.enterprise_id in found
                    else None,
                    role=MembershipRole(m.role),
                    scopes=list(m.scopes),
                ),
            )
            for edge in page.edges
            for m in [edge.node]
        ],
        page_info=page.page_info,
    )


@strawberry.input
class RegisterEnterpriseInput:
    credit_code: str
    name: str
    legal_representative_id_number: str | None = strawberry.field(
        default=None, description="Officers only; a citizen registers themself as representative."
    )


@strawberry.input
class AuthorizeAgentInput:
    enterprise_id: relay.GlobalID
    agent_id_number: str
    scopes: list[AgentScope]


@strawberry.input
class RevokeAgentInput:
    enterprise_id: relay.GlobalID
    agent_id: relay.GlobalID


@strawberry.input
class ChangeEnterpriseContactInput:
    enterprise_id: relay.GlobalID
    phone: str | None = None
    address: str | None = None


@strawberry.type
class EnterprisePayload:
    enterprise_id: strawberry.Private[UUID | None] = None
    purpose: strawberry.Private[str | None] = None  # staff read back what they changed
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @strawberry.field
    async def enterprise(self, info: Info) -> Enterprise | None:
        if self.enterprise_id is None:
            return None
        return await load_enterprise(info, self.enterprise_id, self.purpose)


def changed(
    info: Info, enterprise_id: UUID, position: int, purpose: str | None = None
) -> EnterprisePayload:
    """The payload of a change; `purpose` is what a staff member's read-back is for."""
    info.context.wrote(position)
    return EnterprisePayload(enterprise_id=enterprise_id, purpose=purpose)


@strawberry.type
class EnterpriseQueries:
    @strawberry.field(description="An enterprise: its legal representative and agents, or staff.")
    async def enterprise(
        self,
        info: Info,
        id: relay.GlobalID,
        purpose: Annotated[str | None, PURPOSE] = None,
    ) -> Enterprise | None:
        return await load_enterprise(info, parse_id(id, "Enterprise", "id"), purpose)


@strawberry.type
class EnterpriseMutations:
    @strawberry.mutation
    @reports_user_errors(EnterprisePayload)
    async def register_enterprise(
        self, info: Info, input: RegisterEnterpriseInput
    ) -> EnterprisePayload:
        enterprise, position = await blocking(
            info.context.city.enterprises.register,
            info.context.require(),
            input.credit_code,
            input.name,
            input.legal_representative_id_number,
        )
        return changed(info, enterprise.id, position, "registerEnterprise")

    @strawberry.mutation(
        description="The legal representative invites a person to act for the enterprise, with "
        "scopes (they become an agent by accepting: acceptAgentInvitation), or changes an "
        "agent's scopes. The answer is the same whoever the ID number belongs to."
    )
    @reports_user_errors(EnterprisePayload)
    async def authorize_agent(self, info: Info, input: AuthorizeAgentInput) -> EnterprisePayload:
        enterprise_id = parse_id(input.enterprise_id, "Enterprise", "enterpriseId")
        position = await blocking(
            info.context.city.enterprises.authorise_agent,
            info.context.require(),
            enterprise_id,
            input.agent_id_number,
            [s.value for s in input.scopes],
        )
        return changed(info, enterprise_id, position)

    @strawberry.mutation(description="Ends an agent's authorisation, or withdraws an invitation.")
    @reports_user_errors(EnterprisePayload)
    async def revoke_agent(self, info: Info, input: RevokeAgentInput) -> EnterprisePayload:
        enterprise_id = parse_id(input.enterprise_id, "Enterprise", "enterpriseId")
        agent_id = parse_id(input.agent_id, "Citizen", "agentId")
        position = await blocking(
            info.context.city.enterprises.revoke_agent,
            info.context.require(),
            enterprise_id,
            agent_id,
        )
        return changed(info, enterprise_id, position)

    @strawberry.mutation(description="Needs the PROFILE scope, or the legal representative.")
    @reports_user_errors(EnterprisePayload)
    async def change_enterprise_contact(
        self, info: Info, input: ChangeEnterpriseContactInput
    ) -> EnterprisePayload:
        enterprise_id = parse_id(input.enterprise_id, "Enterprise", "enterpriseId")
        position = await blocking(
            info.context.city.enterprises.change_contact,
            info.context.require(),
            enterprise_id,
            input.phone,
            input.address,
        )
        return changed(info, enterprise_id, position)
