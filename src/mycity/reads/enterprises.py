"""Reading enterprises: their profile, and the people shown on it.

Who may read an enterprise depends on who its people are, so the row is read first and
the rule asked with its members; nothing of it leaves before the rule has admitted it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import ClassVar
from uuid import UUID

from mycity.domain.errors import Forbidden
from mycity.identity.principal import Principal
from mycity.policy import enterprises as policy
from mycity.policy.base import require_citizen
from mycity.projections.agent_invitations import Invitation, Invitations
from mycity.projections.citizen_profile import CitizenProfiles
from mycity.projections.enterprise_profile import EnterpriseProfiles, EnterpriseProfileView
from mycity.reads.door import Door


@dataclass(frozen=True)
class PersonSummary:
    """One of an enterprise's people as the others see them: name and masked ID number."""

    id: UUID
    name: str | None  # None once the person is erased
    id_number_masked: str | None


@dataclass(frozen=True)
class EnterpriseReads:
    # What a request that wrote waits for before reading.
    read_models: ClassVar[tuple[str, ...]] = (
        "enterprise_profile",
        "citizen_profile",
        "agent_invitations",
    )

    door: Door
    profiles: EnterpriseProfiles
    citizens: CitizenProfiles
    invitations: Invitations

    def profile(
        self, principal: Principal, enterprise_id: UUID, purpose: str | None = None
    ) -> EnterpriseProfileView | None:
        """The enterprise, or FORBIDDEN for who is not one of its people nor staff: also
        when there is no such enterprise, so that ids cannot be probed (staff get None)."""
        view = self.profiles.get(enterprise_id)
        if view is None:
            policy.read_enterprise(principal, frozenset())  # staff pass; others are refused
            return None
        self._enter(principal, view, purpose)
        return view

    def profiles_of(
        self, principal: Principal, enterprise_ids: Iterable[UUID], purpose: str | None = None
    ) -> dict[UUID, EnterpriseProfileView]:
        """Of these enterprises, those the caller may read (a list leaves the others out)."""
        admitted = {}
        for enterprise_id, view in self.profiles.get_many(enterprise_ids).items():
            try:
                self._enter(principal, view, purpose)
            except Forbidden:
                continue
            admitted[enterprise_id] = view
        return admitted

    def _enter(
        self, principal: Principal, view: EnterpriseProfileView, purpose: str | None
    ) -> None:
        self.door.enter(
            principal,
            "enterprise.profile",
            [view.id],
            lambda: policy.read_enterprise(principal, view.members),
            fields=policy.PROFILE,
            purpose=purpose,
        )

    def people(
        self,
        principal: Principal,
        enterprise: EnterpriseProfileView,
        people: Iterable[UUID],
        purpose: str | None = None,
    ) -> dict[UUID, PersonSummary]:
        """Some of the enterprise's people, for someone who may read the enterprise."""
        wanted = [p for p in people if p in enterprise.members]
        self.door.enter(
            principal,
            "enterprise.people",
            wanted,
            lambda: policy.read_enterprise(principal, enterprise.members),
            fields=policy.PEOPLE,
            purpose=purpose,
        )
        return {
            view.id: PersonSummary(view.id, view.name, view.id_number_masked)
            for view in self.citizens.get_many(wanted).values()
        }

    def invited(
        self, principal: Principal, enterprise: EnterpriseProfileView, purpose: str | None = None
    ) -> list[Invitation]:
        """Whom the enterprise invited and who has not answered, for who may read it."""
        invitations = self.invitations.of_enterprise(enterprise.id)
        self.door.enter(
            principal,
            "enterprise.invitations",
            [i.agent_id for i in invitations],
            lambda: policy.read_enterprise(principal, enterprise.members),
            fields=(),
            purpose=purpose,
        )
        return invitations

    def invitations_to_me(
        self, principal: Principal
    ) -> list[tuple[Invitation, EnterpriseProfileView]]:
        """The caller's own invitations, each with the inviting enterprise: what an invitee
        is shown of it is its name and credit code (`policy.INVITATION`)."""
        invitations = self.invitations.of_agent(require_citizen(principal))
        views = self.profiles.get_many(i.enterprise_id for i in invitations)
        shown = []
        for invitation in invitations:
            if (view := views.get(invitation.enterprise_id)) is None:
                continue
            self.door.enter(
                principal,
                "enterprise.invitation",
                [view.id],
                partial(policy.read_invitation, principal, invitation.agent_id),
                fields=policy.INVITATION,
                purpose=None,
            )
            shown.append((invitation, view))
        return shown
