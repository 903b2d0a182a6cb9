"""The enterprise's file: registration, contact, and the agents who act for it.

Nobody becomes an enterprise's agent without agreeing: the legal representative invites a
person by ID number, and the person accepts (or declines). Until then the representative
learns nothing of whether the number has a file, is verified, or will ever answer.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from mycity.domain.contact import changed_contact
from mycity.domain.errors import ErrorCode, UserError, checked
from mycity.domain.identifiers import validate_credit_code, validate_name
from mycity.domain.personal import not_personal


class AgentScope(StrEnum):
    """What an agent may do for the enterprise. The legal representative may do everything."""

    PROFILE = "PROFILE"  # change the enterprise's contact details
    APPLICATIONS = "APPLICATIONS"  # apply for services in its name
    LICENCES = "LICENCES"  # hold and show its licences
    PAYMENTS = "PAYMENTS"  # pay and refund in its name
    CREDIT = "CREDIT"  # see its credit and apply for its repair


MAX_INVITATIONS = 100  # waiting at once for one enterprise's answers


def parse_scopes(scopes: list[str]) -> list[str]:
    try:
        parsed = sorted({AgentScope(s).value for s in scopes})
    except ValueError:
        known = ", ".join(s.value for s in AgentScope)
        raise UserError(ErrorCode.INVALID_SCOPES, f"Scopes are {known}", "scopes") from None
    if not parsed:
        raise UserError(ErrorCode.INVALID_SCOPES, "Give at least one scope", "scopes")
    return parsed


class Enterprise(Aggregate):
    """A registered enterprise. The aggregate id is a keyed hash of its credit code."""

    id: UUID  # given by the caller, so a second registration collides in the store
    class_version = 2  # 2: pending invitations beside the agents

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        """A snapshot taken before invitations existed had none pending."""
        state["invitations"] = {}

    @not_personal("credit_code", "name", "legal_representative_id")
    class Registered(Aggregate.Created):
        credit_code: str
        name: str
        legal_representative_id: UUID

    @not_personal("agent_id", "scopes", "by")
    class AgentAuthorised(Aggregate.Event):
        agent_id: UUID
        scopes: list[str]
        by: UUID

    @not_personal("agent_id", "by")
    class AgentRevoked(Aggregate.Event):
        agent_id: UUID
        by: UUID

    @not_personal("agent_id", "scopes", "by")
    class AgentInvited(Aggregate.Event):
        agent_id: UUID
        scopes: list[str]
        by: UUID

    @not_personal("agent_id", "scopes")
    class AgentAccepted(Aggregate.Event):
        """The invited person agreed: now an agent with the invitation's scopes."""

        agent_id: UUID
        scopes: list[str]

    @not_personal("agent_id")
    class AgentDeclined(Aggregate.Event):
        agent_id: UUID

    @not_personal("agent_id", "by")
    class AgentInvitationWithdrawn(Aggregate.Event):
        agent_id: UUID
        by: UUID

    @not_personal("phone", "address", "by")
    class ContactChanged(Aggregate.Event):
        phone: str
        address: str
        by: UUID

    @event(Registered)
    def __init__(self, credit_code: str, name: str, legal_representative_id: UUID) -> None:
        self.credit_code = credit_code
        self.name = name
        self.legal_representative_id = legal_representative_id
        self.phone = ""
        self.address = ""
        self.agents: dict[UUID, list[str]] = {}
        self.invitations: dict[UUID, list[str]] = {}  # agent id: the scopes offered

    @classmethod
    def register(
        cls,
        *,
        id: UUID,
        credit_code: str,
        name: str,
        legal_representative_id: UUID,
    ) -> Enterprise:
        return cls(  # type: ignore[call-arg]  # eventsourcing takes `id` (annotated)
            id=id,
            credit_code=checked("creditCode", validate_credit_code, credit_code),
            name=checked("name", lambda n: validate_name(n, longest=120), name),
            legal_representative_id=legal_representative_id,
        )

    def may(self, citizen_id: UUID, scope: AgentScope) -> bool:
        """Whether this citizen may act for the enterprise within the scope."""
        return citizen_id == self.legal_representative_id or scope.value in self.agents.get(
            citizen_id, []
        )

    def is_member(self, citizen_id: UUID) -> bool:
        return citizen_id == self.legal_representative_id or citizen_id in self.agents

    def authorise_agent(self, *, agent_id: UUID, scopes: list[str], by: UUID) -> None:
        """Only the legal representative authorises. An agent's scopes change at once (they
        agreed to act for the enterprise already); anyone else is invited, and becomes an
        agent by accepting. Inviting again replaces the scopes offered."""
        self.require_legal_representative(by)
        if agent_id == self.legal_representative_id:
            raise UserError(
                ErrorCode.AGENT_IS_LEGAL_REPRESENTATIVE,
                "The legal representative needs no authorisation",
                "agentIdNumber",
            )
        parsed = parse_scopes(scopes)
        if agent_id in self.agents:
            if self.agents[agent_id] != parsed:
                self._agent_authorised(agent_id=agent_id, scopes=parsed, by=by)
        elif self.invitations.get(agent_id) != parsed:
            if agent_id not in self.invitations and len(self.invitations) >= MAX_INVITATIONS:
                raise UserError(
                    ErrorCode.TOO_MANY_INVITATIONS,
                    f"At most {MAX_INVITATIONS} invitations wait at once: withdraw one first",
                    "agentIdNumber",
                )
            self._agent_invited(agent_id=agent_id, scopes=parsed, by=by)

    @event(AgentAuthorised)
    def _agent_authorised(self, agent_id: UUID, scopes: list[str], by: UUID) -> None:
        self.agents[agent_id] = list(scopes)

    @event(AgentInvited)
    def _agent_invited(self, agent_id: UUID, scopes: list[str], by: UUID) -> None:
        self.invitations[agent_id] = list(scopes)

    def accept_invitation(self, *, agent_id: UUID) -> None:
        self._require_invited(agent_id)
        self._agent_accepted(agent_id=agent_id, scopes=self.invitations[agent_id])

    @event(AgentAccepted)
    def _agent_accepted(self, agent_id: UUID, scopes: list[str]) -> None:
        del self.invitations[agent_id]
        self.agents[agent_id] = list(scopes)

    def decline_invitation(self, *, agent_id: UUID) -> None:
        self._require_invited(agent_id)
        self._agent_declined(agent_id=agent_id)

    @event(AgentDeclined)
    def _agent_declined(self, agent_id: UUID) -> None:
        del self.invitations[agent_id]

    def _require_invited(self, agent_id: UUID) -> None:
        if agent_id not in self.invitations:
            raise UserError(
                ErrorCode.NOT_INVITED, "No invitation of this enterprise waits for you", None
            )

    def revoke_agent(self, *, agent_id: UUID, by: UUID) -> None:
        """Ends an agent's authorisation, or withdraws an invitation not yet answered."""
        self.require_legal_representative(by)
        if agent_id in self.invitations:
            self._invitation_withdrawn(agent_id=agent_id, by=by)
            return
        if agent_id not in self.agents:
            raise UserError(ErrorCode.AGENT_NOT_AUTHORISED, "Not an agent", "agentId")
        self._agent_revoked(agent_id=agent_id, by=by)

    @event(AgentRevoked)
    def _agent_revoked(self, agent_id: UUID, by: UUID) -> None:
        del self.agents[agent_id]

    @event(AgentInvitationWithdrawn)
    def _invitation_withdrawn(self, agent_id: UUID, by: UUID) -> None:
        del self.invitations[agent_id]

    def change_contact(self, *, phone: str | None, address: str | None, by: UUID) -> None:
        if new := changed_contact((self.phone, self.address), phone, address):
            self._contact_changed(phone=new[0], address=new[1], by=by)

    @event(ContactChanged)
    def _contact_changed(self, phone: str, address: str, by: UUID) -> None:
        self.phone = phone
        self.address = address

    def require_legal_representative(self, citizen_id: UUID) -> None:
        if citizen_id != self.legal_representative_id:
            raise UserError(
                ErrorCode.FORBIDDEN, "Only the legal representative manages agents", None
            )
