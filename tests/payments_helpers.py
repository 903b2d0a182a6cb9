"""The local payment provider as its own process, for the tests that pay through it; and a
city configured to pay there."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from mycity.bootstrap import City, build
from mycity.identity.principal import Principal, Role
from mycity.integrations.provider_process import local_provider
from mycity.settings import PaymentSettings, Settings
from tests.helpers import CitizenFactory, Person, free_port

SHOP = Principal("shop-test", Role.MERCHANT, None, "测试商店")
OTHER_SHOP = Principal("shop-other", Role.MERCHANT, None, "别的商店")
SHOP_ACCOUNT = "merchant:shop-test"
OTHER_SHOP_ACCOUNT = "merchant:shop-other"
PAYEES = (SHOP_ACCOUNT, OTHER_SHOP_ACCOUNT, "dept:PSB", "transit:CDBUS", "transit:CDBRT")


@dataclass(frozen=True)
class LocalProvider:
    url: str
    api_key: str
    public_key: str
    directory: Path

    @property
    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"authorization": f"Bearer {self.api_key}"}, timeout=10
        )

    def open(self, account: str, kind: str, deposit: int = 0) -> None:
        with self.client as client:
            client.post("/v1/accounts", json={"id": account, "kind": kind}).raise_for_status()
            if deposit:
                client.post(
                    f"/v1/accounts/{account}/deposits",
                    json={"amount_fen": deposit},
                    headers={"idempotency-key": f"deposit-{time.monotonic_ns()}"},
                ).raise_for_status()

    def balance(self, account: str) -> int:
        with self.client as client:
            answer = client.get(f"/v1/accounts/{account}")
            answer.raise_for_status()
            return int(answer.json()["balance_fen"])

    def settings(self, settings: Settings, ceiling: int = 5_000_000) -> Settings:
        """The city's settings, paying here."""
        payments = PaymentSettings(self.url, self.api_key, (self.public_key,), ceiling)
        return replace(settings, payments=payments)


@contextmanager
def provider_process(
    directory: Path,
    *,
    notify: str | None = None,
    settle_after: float = 0.0,
    retry_scale: float = 0.001,
) -> Iterator[LocalProvider]:
    """`mycity provider serve` on a free port until the block ends; stopped, never left."""
    port = free_port()
    with local_provider(
        directory, port, notify, settle_after=settle_after, retry_scale=retry_scale, quiet=True
    ) as keys:
        url = f"http://127.0.0.1:{port}"
        yield LocalProvider(url, keys.api_key, keys.public_key, directory)


@contextmanager
def paying_city(settings: Settings, provider: LocalProvider) -> Iterator[City]:
    city = build(provider.settings(settings))
    try:
        yield city
    finally:
        city.close()


def funded(
    people: CitizenFactory, provider: LocalProvider, fen: int, name: str = "付款人"
) -> Person:
    """A verified citizen with `fen` in their account at the provider."""
    person = people.register(name, verified=True)
    provider.open(people.city.ids.payer(person.id), "payer", fen)
    return person
