"""The provider's notifications as the city receives them: genuine ones recorded (twice is
once); forged, stale, replayed and malformed ones refused, by kind; a lost one made up for
by the sweep asking after the pending payment."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mycity.bootstrap import City
from mycity.domain.payment import Payment, PaymentStatus
from mycity.http_notifications import MAX_BODY
from mycity.integrations.provider import Provider
from mycity.integrations.webhooks import TOLERANCE_S, NotificationRefused, Refusal, sign
from mycity.settings import ReadModelSettings, Settings
from mycity.usecases.payment_notices import KEPT_S
from tests.conftest import serving
from tests.helpers import CitizenFactory, Person
from tests.payments_helpers import (
    SHOP,
    SHOP_ACCOUNT,
    LocalProvider,
    paying_city,
    provider_process,
)
from tests.services import settle

SETTLE_AFTER = 0.3  # the provider answers "pending", and settles this much later


@pytest.fixture
def slow_provider(tmp_path: Path) -> Iterator[LocalProvider]:
    """A provider that settles later, and whose notifications go nowhere (lost)."""
    with provider_process(tmp_path / "provider", settle_after=SETTLE_AFTER) as found:
        found.open(SHOP_ACCOUNT, "payee")
        yield found


@pytest.fixture
def paying(settings: Settings, slow_provider: LocalProvider) -> Iterator[City]:
    with paying_city(settings, slow_provider) as city:
        yield city


def pending_payment(city: City, provider: LocalProvider, amount: int = 300) -> Payment:
    people = CitizenFactory(city)
    payer: Person = people.register("通知", verified=True)
    provider.open(city.ids.payer(payer.id), "payer", 1000)
    payload = city.city_codes.issue(payer.principal).payload
    key = f"order-{payer.id.hex[:8]}"
    payment, _ = city.payments.charge_by_code(SHOP, payload, amount, key, "x")
    assert payment.status is PaymentStatus.PENDING and payment.charge
    return payment


def settled_charge(provider: LocalProvider, charge: str) -> dict[str, object]:
    """The charge once the provider has settled it, as its notification would carry it."""
    deadline = time.monotonic() + 10
    with provider.client as client:
        while time.monotonic() < deadline:
            found = client.get(f"/v1/charges/{charge}").json()
            if found["status"] != "pending":
                return dict(found)
            time.sleep(0.05)
    raise AssertionError("the provider never settled the charge")


def provider_key(provider: LocalProvider) -> Ed25519PrivateKey:
    return Provider(provider.directory).key


def notice(kind: str, data: dict[str, object]) -> bytes:
    return json.dumps({"type": kind, "timestamp": "2026-12-06T13:00:00Z", "data": data}).encode()


def test_a_genuine_notification_records_the_payment_once(
    paying: City, slow_provider: LocalProvider
) -> None:
    payment = pending_payment(paying, slow_provider)
    submitted = payment.version  # requested, then submitted to the provider
    body = notice("charge.succeeded", settled_charge(slow_provider, payment.charge))
    headers = sign(provider_key(slow_provider), "msg_genuine_1", int(paying.clock.now()), body)
    paying.payment_notices.receive(headers, body)  # type: ignore[union-attr]
    assert paying.files.read(Payment, payment.id).status is PaymentStatus.SUCCEEDED
    with pytest.raises(NotificationRefused) as replayed:
        paying.payment_notices.receive(headers, body)  # type: ignore[union-attr]
    assert replayed.value.refusal is Refusal.REPLAYED
    again = sign(provider_key(slow_provider), "msg_genuine_2", int(paying.clock.now()), body)
    paying.payment_notices.receive(again, body)  # type: ignore[union-attr]  # another id: no change
    assert paying.files.read(Payment, payment.id).version == submitted + 1


def test_forged_stale_and_malformed_notifications_change_nothing_and_are_logged(
    paying: City, slow_provider: LocalProvider, caplog: pytest.LogCaptureFixture
) -> None:
    payment = pending_payment(paying, slow_provider)
    body = notice("charge.succeeded", settled_charge(slow_provider, payment.charge))
    now = int(paying.clock.now())
    forged = sign(Ed25519PrivateKey.generate(), "msg_forged", now, body)
    stale = sign(provider_key(slow_provider), "msg_stale", now - TOLERANCE_S - 1, body)
    wrong = notice("charge.refunded", {"id": "x"})
    malformed = sign(provider_key(slow_provider), "msg_bad", now, wrong)
    notices = paying.payment_notices
    assert notices is not None
    with caplog.at_level(logging.WARNING):
        for headers, sent, refusal in (
            (forged, body, Refusal.FORGED),
            (stale, body, Refusal.STALE),
            (malformed, wrong, Refusal.MALFORMED),
            ({}, body, Refusal.MALFORMED),
        ):
            with pytest.raises(NotificationRefused) as refused:
                notices.receive(headers, sent)
            assert refused.value.refusal is refusal
    assert paying.files.read(Payment, payment.id).status is PaymentStatus.PENDING
    logged = caplog.text
    assert "FORGED" in logged and "STALE" in logged and "msg_forged" in logged
    assert payment.charge not in logged  # the body is never echoed


def test_a_lost_notification_is_made_up_for_by_the_sweep(
    paying: City, slow_provider: LocalProvider
) -> None:
    payment = pending_payment(paying, slow_provider)
    settled_charge(slow_provider, payment.charge)  # settled there; its notice went nowhere
    settle(paying)
    assert paying.payment_sweep.sweep() == 0  # too young: it may still be answered
    paying.clock.ahead = timedelta(seconds=31)
    assert paying.payment_sweep.sweep() == 1
    found = paying.files.read(Payment, payment.id)
    assert found.status is PaymentStatus.SUCCEEDED
    assert slow_provider.balance(SHOP_ACCOUNT) == 300


def test_the_endpoint_answers_as_the_docs_say(
    settings: Settings, slow_provider: LocalProvider
) -> None:
    live = replace(slow_provider.settings(settings), read_models=ReadModelSettings(inline=True))
    with serving(live) as served:
        url = f"{served.url}/payments/notifications"
        body = notice("charge.succeeded", {"id": "ch_x", "status": "succeeded", "amount_fen": 1})
        key = provider_key(slow_provider)
        now = int(time.time())
        good = sign(key, "msg_endpoint_1", now, body)
        assert httpx.post(url, content=body, headers=good).status_code == 204
        replay = httpx.post(url, content=body, headers=good)
        assert (replay.status_code, replay.json()) == (409, {"error": "replayed"})
        forged = sign(Ed25519PrivateKey.generate(), "msg_endpoint_2", now, body)
        assert httpx.post(url, content=body, headers=forged).status_code == 401
        stale = sign(key, "msg_endpoint_3", now - TOLERANCE_S - 5, body)
        assert httpx.post(url, content=body, headers=stale).json() == {"error": "stale"}
        assert httpx.post(url, content=body).status_code == 400
        largest = httpx.post(url, content=b" " * MAX_BODY, headers=good)  # read, then judged
        assert (largest.status_code, largest.json()) == (401, {"error": "forged"})
        too_large = httpx.post(url, content=b" " * (MAX_BODY + 1), headers=good)
        assert too_large.status_code == 413


def test_an_id_is_remembered_for_exactly_its_600_seconds(paying: City) -> None:
    """Longer than the timestamps' tolerance either way (2 × 300 s), so a replay is refused
    as replayed or as stale, never taken."""
    notices = paying.payment_notices
    assert notices is not None and KEPT_S >= 2 * TOLERANCE_S
    moment = paying.clock.now()
    assert notices._remember("msg_kept", moment)
    assert not notices._remember("msg_kept", moment + KEPT_S)
    assert notices._remember("msg_kept", moment + KEPT_S + 0.001)
