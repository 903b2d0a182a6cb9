"""The enterprise's file: registration, contact, and the agents who act for it."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from mycity.domain.contact import changed_contact
from mycity.domain.errors import ErrorCode, UserError, checked
from mycity.domain.identifiers import validate_credit_code, validate_name


class AgentScope(StrEnum):
    """What an agent may do for the enterprise. The legal representative may do everything."""

    PROFILE = "PROFILE"  # change the enterprise's contact details
    APPLICATIONS = "APPLICATIONS"  # apply for services in its name
    LICENCES = "LICENCES"  # hold and show its licences
    PAYMENTS = "PAYMENTS"  # pay and refund in its name


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

    class Registered(Aggregate.Created):
        credit_code: str
        name: str
        legal_representative_id: UUID

    class AgentAuthorised(Aggregate.Event):
        agent_id: UUID
        scopes: list[str]
        by: UUID

    class AgentRevoked(Aggregate.Event):
        agent_id: UUID
        by: UUID

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
        """Only the legal representative authorises; re-authorising replaces the scopes."""
        self.require_legal_representative(by)
        if agent_id == self.legal_representative_id:
            raise UserError(
                ErrorCode.AGENT_IS_LEGAL_REPRESENTATIVE,
                "The legal representative needs no authorisation",
                "agentIdNumber",
            )
        parsed = parse_scopes(scopes)
        if self.agents.get(agent_id) != parsed:
            self._agent_authorised(agent_id=agent_id, scopes=parsed, by=by)

    @event(AgentAuthorised)
    def _agent_authorised(self, agent_id: UUID, scopes: list[str], by: UUID) -> None:
        self.agents[agent_id] = list(scopes)

    def revoke_agent(self, *, agent_id: UUID, by: UUID) -> None:
        self.require_legal_representative(by)
        if agent_id not in self.agents:
            raise UserError(ErrorCode.AGENT_NOT_AUTHORISED, "Not an agent", "agentId")
        self._agent_revoked(agent_id=agent_id, by=by)

    @event(AgentRevoked)
    def _agent_revoked(self, agent_id: UUID, by: UUID) -> None:
        del self.agents[agent_id]

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
