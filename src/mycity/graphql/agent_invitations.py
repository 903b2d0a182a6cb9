"""Invitations to act for an enterprise: the invitee's list, and their answer.

`authorizeAgent` invites; the person invited sees the invitation in `myAgentInvitations`
and accepts or declines it. Until they accept, the legal representative learns nothing of
who the ID number belongs to.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from mycity.domain.enterprise import AgentScope
from mycity.graphql.context import Info, blocking
from mycity.graphql.enterprises import EnterprisePayload, changed
from mycity.graphql.errors import UserError, parse_id, reports_user_errors
from mycity.projections.agent_invitations import Invitation
from mycity.projections.enterprise_profile import EnterpriseProfileView


@strawberry.type
class AgentInvitation:
    """An enterprise's invitation to act for it, as the invited person sees it."""

    enterprise_id: relay.GlobalID
    enterprise_name: str
    credit_code: str
    scopes: list[AgentScope]
    invited_at: datetime

    @classmethod
    def of(cls, invitation: Invitation, enterprise: EnterpriseProfileView) -> AgentInvitation:
        return cls(
            enterprise_id=relay.GlobalID("Enterprise", str(enterprise.id)),
            enterprise_name=enterprise.name,
            credit_code=enterprise.credit_code,
            scopes=list(invitation.scopes),
            invited_at=invitation.invited_at,
        )


@strawberry.input
class AnswerAgentInvitationInput:
    enterprise_id: relay.GlobalID


@strawberry.type
class DeclineAgentInvitationPayload:
    declined: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AgentInvitationQueries:
    @strawberry.field(description="Invitations to act for an enterprise that wait for you.")
    async def my_agent_invitations(self, info: Info) -> list[AgentInvitation]:
        context = info.context
        found = await context.read(
            context.city.reads.enterprises.invitations_to_me, context.require()
        )
        return [AgentInvitation.of(invitation, view) for invitation, view in found]


@strawberry.type
class AgentInvitationMutations:
    @strawberry.mutation(description="Become the enterprise's agent, with the scopes offered.")
    @reports_user_errors(EnterprisePayload)
    async def accept_agent_invitation(
        self, info: Info, input: AnswerAgentInvitationInput
    ) -> EnterprisePayload:
        enterprise_id = parse_id(input.enterprise_id, "Enterprise", "enterpriseId")
        position = await blocking(
            info.context.city.enterprises.accept_invitation, info.context.require(), enterprise_id
        )
        return changed(info, enterprise_id, position)

    @strawberry.mutation
    @reports_user_errors(DeclineAgentInvitationPayload)
    async def decline_agent_invitation(
        self, info: Info, input: AnswerAgentInvitationInput
    ) -> DeclineAgentInvitationPayload:
        enterprise_id = parse_id(input.enterprise_id, "Enterprise", "enterpriseId")
        position = await blocking(
            info.context.city.enterprises.decline_invitation, info.context.require(), enterprise_id
        )
        info.context.wrote(position)
        return DeclineAgentInvitationPayload(declined=True)
