"""The city code screen: drawn in the page from the payload, framed in its colour, fresh
before each code expires, and honest about being offline."""

from __future__ import annotations

import io
import json
import re

import zxingcpp
from PIL import Image
from playwright.sync_api import BrowserContext, Page, WebSocketRoute

from mycity.verifier.city_code import Card, Colour, read_code
from tests.app.conftest import CODE_SECONDS, screenshot

SHOWN = "document.querySelector('#code-qr').dataset.payload"


def drawn_text(page: Page, selector: str) -> str:
    """What a QR code on the page says, read from a screenshot of it."""
    picture = page.locator(selector).screenshot()
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(picture)))
    return found.text


def test_the_code_on_screen_is_the_payload_with_its_colour_and_cards(app: Page) -> None:
    payload = app.evaluate(SHOWN)
    code = read_code(payload)
    assert code is not None and code.colour is Colour.GREEN
    assert (
        drawn_text(app, "#code-qr") == payload
    )  # drawn in the page, read back by a camera's decoder
    assert app.get_attribute("#code", "data-colour") == "green"
    assert app.inner_text("#code-colour") == "绿码"
    cards = app.locator("#code-cards li").all_inner_texts()
    assert sorted(cards) == sorted(
        {Card.E_HEALTH: "电子健康卡", Card.LIBRARY: "读者证"}[c] for c in code.cards
    )
    screenshot(app, "city-code")


def test_a_fresh_code_replaces_the_one_on_screen_before_it_expires(app: Page) -> None:
    first = app.evaluate(SHOWN)
    expires = read_code(first).expires_at  # type: ignore[union-attr]
    app.wait_for_function(f"first => {SHOWN} !== first", arg=first, timeout=CODE_SECONDS * 1000)
    fresh = read_code(app.evaluate(SHOWN))
    assert fresh is not None and fresh.issued_at <= expires
    assert drawn_text(app, "#code-qr") == app.evaluate(SHOWN)
    assert float(app.evaluate("document.querySelector('#code-qr').dataset.redrawMs")) >= 0


def test_offline_the_code_stays_and_says_so(app: Page, citizen: BrowserContext) -> None:
    citizen.set_offline(True)
    try:
        app.wait_for_selector("#code-status[data-kind]:not([data-kind=info])", timeout=5000)
        status = app.inner_text("#code-status")
        assert status in ("离线：此码在有效期内仍可使用", "无法刷新：请联网后重试")
        assert app.evaluate(SHOWN)
    finally:
        citizen.set_offline(False)


EXPIRED = {"message": "The access token has expired", "extensions": {"code": "TOKEN_EXPIRED"}}


def test_when_the_city_ends_the_subscription_the_screen_subscribes_again(
    citizen: BrowserContext,
) -> None:
    """A connection whose access token expires is ended by the city (an error, then
    complete): the screen connects again, with a fresh token, and codes keep coming."""
    page = citizen.new_page()
    connections: list[WebSocketRoute] = []

    def relay(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        connections.append(socket)

        def to_page(message: str | bytes) -> None:
            socket.send(message)
            found = json.loads(message)
            if len(connections) == 1 and found.get("type") == "next":
                ending = {"id": found["id"], "type": "next", "payload": {"errors": [EXPIRED]}}
                socket.send(json.dumps(ending))
                socket.send(json.dumps({"id": found["id"], "type": "complete"}))

        server.on_message(to_page)

    page.route_web_socket(re.compile(r".*/graphql$"), relay)
    page.goto("/app/")
    page.wait_for_function(f"() => {SHOWN}")
    first = page.evaluate(SHOWN)
    page.wait_for_function(f"first => {SHOWN} !== first", arg=first, timeout=CODE_SECONDS * 1000)
    assert len(connections) == 2  # the first one ended by the city, then a new one
    page.close()
