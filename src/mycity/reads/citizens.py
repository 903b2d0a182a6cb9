"""Reading citizens' files: the profile screen, and the full identifiers where allowed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

from mycity.domain.citizen import Citizen
from mycity.identity.principal import Principal
from mycity.policy import citizens as policy
from mycity.projections.citizen_profile import CitizenProfiles, CitizenProfileView
from mycity.reads.door import Door
from mycity.store.files import CityFiles


@dataclass(frozen=True)
class Identifiers:
    id_number: str
    phone: str


@dataclass(frozen=True)
class CitizenReads:
    # What a request that wrote waits for before reading.
    read_models: ClassVar[tuple[str, ...]] = ("citizen_profile",)

    door: Door
    files: CityFiles
    profiles: CitizenProfiles

    def profile(
        self, principal: Principal, citizen_id: UUID, purpose: str | None = None
    ) -> CitizenProfileView | None:
        """The file as its profile screen shows it: identifiers masked."""
        self.door.enter(
            principal,
            "citizen.profile",
            [citizen_id],
            lambda: policy.read_file(principal, citizen_id),
            fields=policy.PROFILE,
            purpose=purpose,
        )
        return self.profiles.get(citizen_id)

    def identifiers(
        self,
        principal: Principal,
        citizen_id: UUID,
        purpose: str | None = None,
        shown: int = 0,
    ) -> Identifiers | None:
        """The full ID number and phone, from the file itself, for whom the policy shows
        them; None for other readers, who see the profile's masked ones (and for an
        erased file, whose identifiers nobody can read any more). `shown`: the file's
        version the profile showed them beside; a file cached as new is not asked again."""
        grant = self.door.enter(
            principal,
            "citizen.identifiers",
            [citizen_id],
            lambda: policy.read_file(principal, citizen_id),
            fields=policy.IDENTIFIERS,
            purpose=purpose,
        )
        if not grant.full >= policy.IDENTIFIERS:
            return None
        citizen = self.files.read(Citizen, citizen_id, at_least=shown)
        if citizen.id_number is None or citizen.phone is None:
            return None
        return Identifiers(citizen.id_number, citizen.phone)

    def profile_with_identifiers(
        self, principal: Principal, citizen_id: UUID, purpose: str | None = None
    ) -> tuple[CitizenProfileView | None, Identifiers | None]:
        """Both reads in one call: a request that asks for both (the app's `me`) leaves
        the event loop once, not twice."""
        view = self.profile(principal, citizen_id, purpose)
        if view is None:
            return None, None
        return view, self.identifiers(principal, citizen_id, purpose, view.version)
