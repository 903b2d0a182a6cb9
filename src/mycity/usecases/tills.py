"""Which account a merchant's till takes payments into: its enterprise's, once the till is
registered for it (`mycity payments till`), else an account of the till's own."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from eventsourcing.persistence import IntegrityError

from mycity.domain.enterprise import Enterprise
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.till import Payee, Till, till_id
from mycity.identity.credentials import Clients
from mycity.identity.principal import Principal, Role
from mycity.identity.subjects import SubjectIds
from mycity.store.files import CityFiles

UNREGISTERED_KEPT_S = 60.0  # a till found unregistered is asked again after this


@dataclass
class Tills:
    files: CityFiles
    clients: Clients
    ids: SubjectIds
    monotonic: Callable[[], float] = time.monotonic  # when a till was found unregistered
    _registered: dict[str, Payee] = field(default_factory=dict)  # a till's never changes
    _unregistered: dict[str, float] = field(default_factory=dict)

    def register(self, client_id: str, credit_code: str) -> Till:
        """Register a merchant's till for an enterprise (an operator's command)."""
        client = self.clients.get(client_id)
        if client is None or client.role is not Role.MERCHANT:
            raise UserError(ErrorCode.NOT_FOUND, f"No merchant client {client_id}", "clientId")
        enterprise = self.files.find(self.ids.enterprise(credit_code))
        if not isinstance(enterprise, Enterprise):
            raise UserError(
                ErrorCode.NOT_FOUND, "No enterprise with that credit code", "creditCode"
            )
        till = Till(  # type: ignore[call-arg]
            id=till_id(client_id),
            client=client_id,
            enterprise=enterprise.id,
            credit_code=enterprise.credit_code,
            name=enterprise.name,
            by="cli",
        )
        try:
            self.files.commit(till)
        except IntegrityError:
            raise UserError(
                ErrorCode.ALREADY_REGISTERED, f"{client_id} is registered already", "clientId"
            ) from None
        self._unregistered.pop(client_id, None)
        return till

    def payee_of(self, merchant: Principal) -> Payee:
        """The account the merchant's charges are paid into."""
        client = merchant.subject
        if client in self._registered:
            return self._registered[client]
        if self.monotonic() - self._unregistered.get(client, float("-inf")) < UNREGISTERED_KEPT_S:
            return Payee(f"merchant:{client}", merchant.name)
        till = self.files.find(till_id(client))
        if isinstance(till, Till):
            self._registered[client] = Payee(till.payee, till.name)
            return self._registered[client]
        self._unregistered[client] = self.monotonic()
        return Payee(f"merchant:{client}", merchant.name)

    def account_of(self, principal: Principal | None) -> str | None:
        """The account a merchant's charges are paid into; None for any other caller."""
        if principal is None or principal.role is not Role.MERCHANT:
            return None
        return self.payee_of(principal).account
