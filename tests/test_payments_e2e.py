"""Paying end to end, over real HTTP and WebSocket with a real GraphQL client: the city
served, the local provider its own process settling later and notifying the city; a
merchant's till told by its subscription; the payer's list; the day's settlement."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from mycity.identity.principal import Role
from mycity.settings import ReadModelSettings, Settings
from tests.conftest import Served, free_port, serving
from tests.helpers import Api, CitizenFactory
from tests.payments_helpers import LocalProvider, provider_process

SHOP_ID = "shop-e2e"
CHARGE = """mutation($i: ChargeByCodeInput!) { chargeByCode(input: $i) {
    payment { id status amountFen refundedFen description } userErrors { code field } } }"""
REFUND = """mutation($i: RefundPaymentInput!) { refundPayment(input: $i) {
    payment { id refundedFen } userErrors { code field } } }"""
PAYMENT = "query($id: ID!) { payment(id: $id) { status amountFen description } }"


@pytest.fixture
def paid_city(settings: Settings, tmp_path: Path) -> Iterator[tuple[Served, LocalProvider]]:
    port = free_port()
    notify = f"http://127.0.0.1:{port}/payments/notifications"
    with provider_process(tmp_path / "provider", notify=notify, settle_after=0.3) as provider:
        provider.open(f"merchant:{SHOP_ID}", "payee")
        live = replace(provider.settings(settings), read_models=ReadModelSettings(inline=True))
        with serving(live, port) as served:
            yield served, provider


def wait_for(check: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("never happened")


def test_a_shop_is_paid_by_code_told_at_its_till_and_settles_its_day(
    paid_city: tuple[Served, LocalProvider],
) -> None:
    served, provider = paid_city
    city = served.app.state.city
    api = Api(served.url, city.settings.sms_outbox)
    people = CitizenFactory(city)
    payer = people.register("端到端", verified=True)
    provider.open(city.ids.payer(payer.id), "payer", 10_000)
    citizen = api.log_in_citizen(payer.phone)["accessToken"]
    shop = api.log_in_client(SHOP_ID, city.clients.add(SHOP_ID, Role.MERCHANT, "端到端商店"))
    feed = served.app.state.graphql.feed
    url = served.url.replace("http://", "ws://") + "/graphql"

    async def till_and_charge() -> tuple[dict[str, Any], dict[str, Any]]:
        transport = WebsocketsTransport(
            url=url,
            init_payload={"authorization": f"Bearer {shop}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:
            stream = session.subscribe(
                gql("subscription { paymentsReceived { paymentId kind amountFen settledAt } }")
            )
            first = asyncio.ensure_future(stream.__anext__())
            for _ in range(500):  # until the server has the subscription
                if feed._behalf:
                    break
                await asyncio.sleep(0.02)
            code = (await asyncio.to_thread(api.run, "{ cityCode { payload } }", None, citizen))[
                "cityCode"
            ]["payload"]
            charge = {"payload": code, "amountFen": 1250, "idempotencyKey": "till-0001"}
            charged = await asyncio.to_thread(
                api.run, CHARGE, {"i": charge | {"description": "两斤茶叶"}}, shop
            )
            told = await asyncio.wait_for(first, timeout=15)
            await stream.aclose()
            return charged["chargeByCode"], told["paymentsReceived"]

    charged, told = asyncio.run(till_and_charge())
    assert charged["userErrors"] == []
    payment = charged["payment"]
    assert payment["status"] == "PENDING"  # the provider settles later, and says so
    assert told == {
        "paymentId": payment["id"],
        "kind": "TILL",
        "amountFen": 1250,
        "settledAt": told["settledAt"],
    }
    status = wait_for(
        lambda: api.run(PAYMENT, {"id": payment["id"]}, citizen)["payment"]["status"] == "SUCCEEDED"
    )
    assert status
    mine = api.run("{ myPayments { edges { node { id description status } } } }", None, citizen)
    assert mine["myPayments"]["edges"][0]["node"] == {
        "id": payment["id"],
        "description": "两斤茶叶",
        "status": "SUCCEEDED",
    }
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    by_day = (
        "query($s: Date, $u: Date) { myPayments(since: $s, until: $u) { edges { node { id } } } }"
    )
    for since, until, count in (
        (today, today, 1),  # the day itself, both ends included
        (today + dt.timedelta(days=1), None, 0),
        (None, today - dt.timedelta(days=1), 0),
    ):
        days = {"s": since and since.isoformat(), "u": until and until.isoformat()}
        assert len(api.run(by_day, days, citizen)["myPayments"]["edges"]) == count
    backwards = {"s": today.isoformat(), "u": (today - dt.timedelta(days=1)).isoformat()}
    assert api.errors(by_day, backwards, citizen)[0]["extensions"]["code"] == "INVALID_ARGUMENT"
    stranger = api.log_in_citizen(people.register("旁人").phone)["accessToken"]
    others = api.errors(PAYMENT, {"id": payment["id"]}, stranger)
    assert others[0]["extensions"]["code"] == "FORBIDDEN"

    partial = {"paymentId": payment["id"], "amountFen": 500, "idempotencyKey": "refund-001"}
    refunded = api.run(REFUND, {"i": partial}, shop)["refundPayment"]
    assert refunded["userErrors"] == [] and refunded["payment"]["refundedFen"] == 500
    too_much = partial | {"amountFen": 751, "idempotencyKey": "refund-002"}
    refused = api.run(REFUND, {"i": too_much}, shop)["refundPayment"]
    assert refused["userErrors"] == [{"code": "REFUND_EXCEEDS_PAYMENT", "field": "amountFen"}]

    settlement = wait_for(
        lambda: (
            (
                found := api.run(
                    "query($d: Date!) { merchantSettlement(date: $d) { payments receivedFen "
                    "refunds refundedFen netFen } }",
                    {"d": today.isoformat()},
                    shop,
                )["merchantSettlement"]
            )["refunds"]
            and found
        )
    )
    assert settlement == {
        "payments": 1,
        "receivedFen": 1250,
        "refunds": 1,
        "refundedFen": 500,
        "netFen": 750,
    }
    assert provider.balance(city.ids.payer(payer.id)) == 10_000 - 1250 + 500
