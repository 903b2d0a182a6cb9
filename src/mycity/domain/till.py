"""A shop's till (收银台): a merchant partner client registered as taking payments for an
enterprise, so that what it charges is paid to that enterprise's account and settled with
the enterprise's other tills, and its agents for payments see the settlement.

Its id comes from the client, so a till belongs to one enterprise; a till not registered is
paid to an account of its own (`merchant:<client id>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mycity.domain.personal import not_personal


@dataclass(frozen=True)
class Payee:
    """Where a merchant's charges are paid."""

    account: str  # at the payment provider
    name: str  # as the payer's payments show it


def till_id(client_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"mycity:till:{client_id}")


def enterprise_payee(credit_code: str) -> str:
    """An enterprise's account at the payment provider, for the payments to its tills."""
    return f"merchant:{credit_code}"


class Till(Aggregate):
    id: UUID

    @not_personal("client", "enterprise", "credit_code", "name", "by")
    class Registered(Aggregate.Created):
        client: str  # the merchant partner's client id
        enterprise: UUID
        credit_code: str  # the enterprise's: its payee account is named by it
        name: str  # the enterprise's name, as its payments show it
        by: str  # who registered it (an operator's command: "cli")

    @event(Registered)
    def __init__(self, client: str, enterprise: UUID, credit_code: str, name: str, by: str) -> None:
        self.client = client
        self.enterprise = enterprise
        self.credit_code = credit_code
        self.name = name

    @property
    def payee(self) -> str:
        return enterprise_payee(self.credit_code)
