"""An enterprise's file: registration, its agents, its contact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from mycity.domain.citizen import Citizen
from mycity.domain.enterprise import AgentScope, Enterprise
from mycity.domain.errors import ErrorCode, Forbidden, UserError, checked
from mycity.domain.identifiers import validate_credit_code, validate_resident_id
from mycity.identity.principal import Principal
from mycity.identity.subjects import SubjectIds
from mycity.policy import enterprises as policy
from mycity.policy.base import require_citizen
from mycity.store.files import CityFiles


@dataclass(frozen=True)
class Enterprises:
    files: CityFiles
    ids: SubjectIds

    def register(
        self,
        actor: Principal,
        credit_code: str,
        name: str,
        legal_representative_id_number: str | None = None,
    ) -> tuple[Enterprise, int]:
        """A citizen registers their own enterprise; an officer may name another representative."""
        if legal_representative_id_number and policy.can_register_for_others(actor):
            number = checked(
                "legalRepresentativeIdNumber", validate_resident_id, legal_representative_id_number
            )
            representative = self.ids.citizen(number)
        elif legal_representative_id_number:
            raise Forbidden("Only officers register an enterprise for someone else")
        else:
            representative = require_citizen(actor)
        try:
            person = self.files.read(Citizen, representative)
        except UserError:
            raise UserError(
                ErrorCode.LEGAL_REPRESENTATIVE_NOT_REGISTERED,
                "The legal representative has no file",
                "legalRepresentativeIdNumber",
            ) from None
        person.require_verified("legalRepresentativeIdNumber")
        code = checked("creditCode", validate_credit_code, credit_code)
        enterprise = Enterprise.register(
            id=self.ids.enterprise(code),
            credit_code=code,
            name=name,
            legal_representative_id=representative,
        )
        try:
            return enterprise, self.files.commit(enterprise)
        except IntegrityError:
            raise UserError(
                ErrorCode.ALREADY_REGISTERED, "Already registered", "creditCode"
            ) from None

    def authorise_agent(
        self, actor: Principal, enterprise_id: UUID, agent_id_number: str, scopes: list[str]
    ) -> int:
        """The legal representative invites a person (or changes an agent's scopes). The
        answer is the same whoever the number belongs to, registered or not, verified or
        not: what the person is is checked when they accept."""
        by = policy.require_legal_representative(actor, self._enterprise(enterprise_id))
        number = checked("agentIdNumber", validate_resident_id, agent_id_number)
        agent_id = self.ids.citizen(number)
        return self._update(
            enterprise_id, lambda e: e.authorise_agent(agent_id=agent_id, scopes=scopes, by=by)
        )

    def accept_invitation(self, actor: Principal, enterprise_id: UUID) -> int:
        """The invited person agrees to act for the enterprise: only with a verified real
        name, as everyone who represents or acts for an enterprise."""
        agent_id = require_citizen(actor)
        self.files.read(Citizen, agent_id).require_verified(None)
        return self._answer(enterprise_id, lambda e: e.accept_invitation(agent_id=agent_id))

    def decline_invitation(self, actor: Principal, enterprise_id: UUID) -> int:
        agent_id = require_citizen(actor)
        return self._answer(enterprise_id, lambda e: e.decline_invitation(agent_id=agent_id))

    def _answer(self, enterprise_id: UUID, command: Callable[[Enterprise], object]) -> int:
        """An invitee's answer: an enterprise that does not exist has invited nobody."""
        try:
            self.files.read(Enterprise, enterprise_id)
        except UserError:
            raise UserError(
                ErrorCode.NOT_INVITED, "No invitation of this enterprise waits for you", None
            ) from None
        return self.files.update(Enterprise, enterprise_id, command)

    def revoke_agent(self, actor: Principal, enterprise_id: UUID, agent_id: UUID) -> int:
        by = policy.require_legal_representative(actor, self._enterprise(enterprise_id))
        return self._update(enterprise_id, lambda e: e.revoke_agent(agent_id=agent_id, by=by))

    def change_contact(
        self, actor: Principal, enterprise_id: UUID, phone: str | None, address: str | None
    ) -> int:
        def change(enterprise: Enterprise) -> None:
            by = policy.require_scope(actor, enterprise, AgentScope.PROFILE)
            enterprise.change_contact(phone=phone, address=address, by=by)

        return self._update(enterprise_id, change)

    def _enterprise(self, enterprise_id: UUID) -> Enterprise:
        """An enterprise to act on: one that does not exist is, to its callers, one that is
        not theirs (so ids cannot be probed)."""
        try:
            return self.files.read(Enterprise, enterprise_id)
        except UserError:
            raise Forbidden("Not your enterprise") from None

    def _update(self, enterprise_id: UUID, command: Callable[[Enterprise], object]) -> int:
        self._enterprise(enterprise_id)
        return self.files.update(Enterprise, enterprise_id, command)
