"""The citizen's code over HTTP and WebSocket: fresh on every ask, nothing recorded, the
colour and cards in force, verifiable offline with the published keys."""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import replace
from typing import Any

import httpx
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from mycity.bootstrap import City
from mycity.demo import CITIZENS
from mycity.domain.code_holder import subject_number
from mycity.identity.principal import Principal, Role
from mycity.integrations.qr import read_image
from mycity.settings import ReadModelSettings
from mycity.verifier.city_code import Colour, Purpose, load_code_keys, open_subject, verify_code
from tests.conftest import serving
from tests.helpers import Api, CitizenFactory

CODE = "query($png: Boolean!) { cityCode(png: $png) { payload expiresAt refreshSeconds png } }"
HEALTH = Principal("feed-health-test", Role.AUTHORITY_FEED, "HEALTH", "卫健委")


def test_a_code_is_fresh_each_time_verifies_offline_and_shows_the_colour(
    api: Api, city: City, demo: dict[str, dict[str, str]], server: str
) -> None:
    person = CITIZENS[3]
    token = api.log_in_citizen(person.phone)["accessToken"]
    head = city.files.head()
    first = api.run(CODE, {"png": True}, token)["cityCode"]
    second = api.run(CODE, {"png": False}, token)["cityCode"]
    assert city.files.head() == head  # issuing records nothing
    assert first["payload"] != second["payload"] and second["png"] is None
    assert first["refreshSeconds"] == 45
    keys = load_code_keys(httpx.get(f"{server}/city-code/keys").json())
    checked = [verify_code(c["payload"], keys, now=time.time()) for c in (first, second)]
    assert all(v.ok for v in checked)
    assert checked[0].colour is Colour.GREEN and checked[0].purposes == frozenset(Purpose)
    refs = [v.subject_ref for v in checked]
    assert refs[0] != refs[1]  # unlinkable
    citizen = city.ids.citizen(person.id_number)
    opened = [open_subject(city.keys.code_subject, r) for r in refs if r is not None]
    assert [o[:8] for o in opened if o] == [subject_number(citizen)] * 2
    assert read_image(base64.b64decode(first["png"])) == [first["payload"]]

    city.health.set_status(HEALTH, person.id_number, "RED", "阳性", None)
    city.health.link_card(
        Principal("feed-transit", Role.AUTHORITY_FEED, "TRANSIT", "公交"),
        person.id_number,
        "TRANSIT",
        "T-0001",
    )
    red = verify_code(api.run(CODE, {"png": False}, token)["cityCode"]["payload"], keys,
                      now=time.time())  # fmt: skip
    assert red.colour is Colour.RED
    assert {c.value for c in red.cards} == {"e_health", "library", "transit"}
    assert "T-0001" not in repr(red)  # kinds of cards, never their numbers


def test_a_citizens_first_code_opens_their_holder_once(city: City, people: CitizenFactory) -> None:
    person = people.register("首")
    head = city.files.head()
    city.city_codes.issue(person.principal)
    assert city.files.head() == head + 1  # CodeHolder.Opened: a scan finds them through it
    city.city_codes.issue(person.principal)
    assert city.files.head() == head + 1  # a refresh records nothing


def test_only_a_citizen_has_a_code(api: Api, demo: dict[str, dict[str, str]]) -> None:
    officer = api.log_in_client("officer-amr-01", demo["officer-amr-01"]["secret"])
    errors = api.errors(CODE, {"png": False}, officer)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


def test_the_app_hears_a_fresh_code_before_the_last_expires(
    api: Api, city: City, demo: dict[str, dict[str, str]]
) -> None:
    settings = replace(
        city.settings,
        services=replace(city.settings.services, code_seconds=2),
        read_models=ReadModelSettings(inline=True),
    )
    token = api.log_in_citizen(CITIZENS[4].phone)["accessToken"]
    with serving(settings) as served:
        url = served.url.replace("http://", "ws://") + "/graphql"

        async def watch() -> list[dict[str, Any]]:
            transport = WebsocketsTransport(
                url=url,
                init_payload={"authorization": f"Bearer {token}"},
                subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            )
            async with Client(transport=transport) as session:
                heard = []
                async for code in session.subscribe(
                    gql("subscription { cityCodeRefreshes { payload refreshSeconds } }")
                ):
                    heard.append(code["cityCodeRefreshes"])
                    if len(heard) == 2:
                        return heard
            return heard

        heard = asyncio.run(asyncio.wait_for(watch(), timeout=20))
    assert [h["refreshSeconds"] for h in heard] == [1, 1]
    assert heard[0]["payload"] != heard[1]["payload"]
