"""Who holds a session now: what a refresh token, which stores no name, is issued to."""

from __future__ import annotations

from uuid import UUID

from mycity.domain.citizen import Citizen
from mycity.domain.errors import UserError
from mycity.identity.credentials import Clients
from mycity.identity.principal import Principal, Role
from mycity.store.files import CityFiles


class Holders:
    def __init__(self, files: CityFiles, clients: Clients) -> None:
        self.files = files
        self.clients = clients

    def current(self, stored: Principal) -> Principal | None:
        """The principal with today's name (and department), from the citizen's file or the
        client's record; None once there is no such file (or it is erased), or the client
        is disabled."""
        if stored.role is Role.CITIZEN:
            try:
                citizen = self.files.read(Citizen, UUID(stored.subject))
                return Principal.of_citizen(citizen.id, citizen.person.name)
            except UserError:  # no such file, or erased
                return None
        client = self.clients.get(stored.subject)
        if client is None or client.role is not stored.role:
            return None
        return client.principal()
