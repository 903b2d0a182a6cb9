"""Signing in and out: phone codes, logins, refreshing and revoking tokens, and clients
disabled (their sessions ended) or enabled again."""

from __future__ import annotations

from dataclasses import dataclass

from mycity.domain.citizen import Citizen
from mycity.domain.errors import ErrorCode, UserError, checked
from mycity.domain.identifiers import validate_phone
from mycity.domain.phone import PhoneClaim
from mycity.identity.credentials import Client, Clients
from mycity.identity.phone_codes import PhoneCodes
from mycity.identity.principal import Principal
from mycity.identity.subjects import SubjectIds
from mycity.identity.tokens import TokenPair, Tokens
from mycity.store.files import CityFiles


@dataclass(frozen=True)
class Sessions:
    files: CityFiles
    ids: SubjectIds
    phone_codes: PhoneCodes
    tokens: Tokens
    clients: Clients

    def request_phone_code(self, phone: str, origin: str | None = None) -> int:
        """Text a one-time code; returns the seconds until another may be asked for.
        `origin` is the client address the request came from (codes are budgeted by it)."""
        return self.phone_codes.send(checked("phone", validate_phone, phone), origin)

    def log_in_with_phone_code(self, phone: str, code: str, origin: str | None = None) -> TokenPair:
        phone = checked("phone", validate_phone, phone)
        self.phone_codes.verify(phone, code, origin)
        principal = self.principal_for_phone(phone)
        if principal is None:
            raise UserError(ErrorCode.NOT_FOUND, "No file has this phone", "phone")
        return self.tokens.issue(principal)

    def log_in_with_client_credentials(self, client_id: str, secret: str) -> TokenPair:
        client = self.clients.authenticate(client_id, secret)
        return self.tokens.issue(client.principal())

    def refresh(self, refresh_token: str, retry_key: str | None = None) -> TokenPair:
        return self.tokens.refresh(refresh_token, retry_key)

    def log_out(self, refresh_token: str) -> None:
        self.tokens.revoke(refresh_token)

    def disable_client(self, client_id: str) -> Client | None:
        """Stop a client signing in, and end its sessions now: its refresh tokens are
        deleted and the access tokens it holds refused (by every server within the cut-offs'
        refresh, 5 s). None if there is no such client."""
        client = self.clients.set_disabled(client_id, True)
        if client is not None:
            self.tokens.end_sessions(client_id)
        return client

    def enable_client(self, client_id: str) -> Client | None:
        """Let a disabled client sign in again, with its secret; None if there is none."""
        return self.clients.set_disabled(client_id, False)

    def principal_for_phone(self, phone: str) -> Principal | None:
        """Who logs in with this (valid) phone once its code is verified: the file holding it."""
        claim = self.files.find(self.ids.phone(phone))
        if not isinstance(claim, PhoneClaim) or claim.citizen_id is None:
            return None
        citizen = self.files.read(Citizen, claim.citizen_id)
        return Principal.of_citizen(citizen.id, citizen.person.name)
