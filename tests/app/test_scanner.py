"""The partner's scanner: a code or a licence read from a screenshot, verified offline in
the page, then online, each partner told only what its role may see; a till charges; a
gate offline queues its scans and uploads them when back online."""

from __future__ import annotations

import json

import httpx
from playwright.sync_api import Browser, Page, Route

from tests.app.conftest import Demo, scanner_for, screenshot, shown_soon


def picture(page: Page, selector: str) -> dict[str, object]:
    """A screenshot of a QR code on a page, as a file the scanner is given."""
    return {
        "name": "code.png",
        "mimeType": "image/png",
        "buffer": page.locator(selector).screenshot(),
    }


def fresh_code(app: Page) -> dict[str, object]:
    """The next code the citizen's screen shows, as a picture: a payment code pays once."""
    shown = "() => document.querySelector('#code-qr').dataset.payload"
    now = app.evaluate(shown)
    app.wait_for_function(f"now => ({shown})() !== now", arg=now)
    return picture(app, "#code-qr")


def results(scanner: Page) -> tuple[str, str]:
    scanner.wait_for_selector("#offline-result:not([hidden])")
    return (
        scanner.get_attribute("#offline-result", "data-reason") or "",
        scanner.inner_text("#offline-result"),
    )


def test_the_hotel_verifies_a_shown_licence_offline_and_online(
    app: Page, browser: Browser, demo: Demo
) -> None:
    app.click("#tabs button[data-screen=wallet]")
    app.wait_for_selector("body[data-ready=wallet]")
    app.check("article.licence input[value=holder_name]")
    app.click("article.licence button[type=submit]")
    app.wait_for_selector("article.licence canvas.qr:not([hidden])")
    screenshot(app, "wallet")
    hotel = scanner_for(browser, demo, "venue-hotel-01")
    hotel.set_input_files("#scan-image", picture(app, "article.licence canvas.qr"))
    reason, shown = results(hotel)
    assert reason == "valid" and "居住证" in shown and "王芳" in shown
    assert "holder_id_number" not in shown and "address" not in shown  # only what was chosen
    hotel.wait_for_selector("#online-result:not([hidden])")
    assert hotel.get_attribute("#online-result", "data-reason") == "VALID"
    assert "王芳" in hotel.inner_text("#online-result")
    screenshot(hotel, "scanner-licence")
    # The same code shown again to the same device is a replay, offline too.
    hotel.set_input_files("#scan-image", picture(app, "article.licence canvas.qr"))
    hotel.wait_for_selector("#offline-result[data-reason=replayed]")
    hotel.context.close()
    shown_soon(app, "wallet", "#wallet-uses", "常德华天大酒店")


def test_a_gate_offline_queues_the_scan_and_uploads_it_back_online(
    app: Page, browser: Browser, demo: Demo
) -> None:
    gate = scanner_for(browser, demo, "gate-metro-wuling-01")
    gate.context.set_offline(True)
    gate.set_input_files("#scan-image", picture(app, "#code-qr"))
    reason, shown = results(gate)
    assert reason == "valid" and "green" in shown  # keys kept from when it was online
    gate.wait_for_selector("#scan-status[data-kind=error]")
    assert gate.inner_text("#queue-size") == "1"
    gate.context.set_offline(False)
    gate.click("#queue-upload")
    gate.wait_for_function("() => document.querySelector('#queue-size').textContent === '0'")
    assert gate.inner_text("#scan-status").endswith(": 1")  # recorded once
    gate.context.close()
    shown_soon(app, "me", "#me-accesses", "武陵阁站闸机")
    screenshot(app, "who-read-my-data")


def test_a_hospital_is_told_the_e_health_card_and_a_forged_code_is_refused(
    app: Page, browser: Browser, demo: Demo
) -> None:
    hospital = scanner_for(browser, demo, "hospital-first-01")
    hospital.set_input_files("#scan-image", picture(app, "#code-qr"))
    assert results(hospital)[0] == "valid"
    hospital.wait_for_selector("#online-result[data-reason=VALID]")
    assert "EHC-4307-0000-1042" in hospital.inner_text("#online-result")
    screenshot(hospital, "scanner-hospital")
    payload = app.evaluate("() => document.querySelector('#code-qr').dataset.payload")
    forged = payload[:-1] + ("0" if payload[-1] != "0" else "1")
    hospital.fill("#scan-text textarea", forged)
    hospital.click("#scan-text button")
    hospital.wait_for_selector(
        "#offline-result[data-reason=bad_signature], #offline-result[data-reason=malformed]"
    )
    hospital.context.close()


def test_a_shop_charges_by_the_code_and_the_citizen_sees_the_payment(
    app: Page, browser: Browser, demo: Demo
) -> None:
    shop = scanner_for(browser, demo, "merchant-wuling-01")
    assert shop.is_visible("#charge")
    shop.set_input_files("#scan-image", fresh_code(app))
    assert results(shop)[0] == "valid"
    shop.fill("#charge input[name=amountFen]", "1234")
    shop.click("#charge button")
    shop.wait_for_selector("#scan-status[data-kind=info]")
    assert shop.inner_text("#scan-status").startswith(("SUCCEEDED", "PENDING"))
    assert "王芳" not in shop.content()  # a till is never told who paid
    shop.context.close()
    shown_soon(app, "money", "#money-payments", "¥12.34")


REFRESH = """mutation($t: String!) { refreshTokens(input: {refreshToken: $t}) {
  tokens { accessToken refreshToken } userErrors { code } } }"""
PRESENT_FULL = """mutation($id: ID!) { presentLicence(input: {licenceId: $id,
  fields: ["holder_name"], format: FULL}) { payload userErrors { code message } } }"""


def test_the_first_format_is_verified_offline_with_its_status_list(
    app: Page, browser: Browser, demo: Demo
) -> None:
    """A presentation of the first format (made on request), verified in the page against
    the issuer's signed status list, fetched and kept by the scanner."""
    kept = app.evaluate("() => localStorage.getItem('mycity.refreshToken')")
    graphql = f"{demo.url}/graphql"
    tokens = httpx.post(graphql, json={"query": REFRESH, "variables": {"t": kept}}).json()
    tokens = tokens["data"]["refreshTokens"]["tokens"]
    app.evaluate("t => localStorage.setItem('mycity.refreshToken', t)", tokens["refreshToken"])
    bearer = {"Authorization": f"Bearer {tokens['accessToken']}"}
    mine = "{ myLicences { edges { node { id } } } }"
    licences = httpx.post(graphql, json={"query": mine}, headers=bearer).json()["data"]
    licence = licences["myLicences"]["edges"][0]["node"]["id"]
    shown = httpx.post(
        graphql, json={"query": PRESENT_FULL, "variables": {"id": licence}}, headers=bearer
    ).json()["data"]["presentLicence"]["payload"]
    assert shown.startswith("LC1:")
    hotel = scanner_for(browser, demo, "venue-hotel-01")
    hotel.fill("#scan-text textarea", shown)
    hotel.click("#scan-text button")
    reason, said = results(hotel)
    assert reason == "valid" and "王芳" in said and "居住证" in said
    assert hotel.evaluate("() => localStorage.getItem('mycity.status.PSB')")  # kept for offline
    hotel.wait_for_selector("#online-result[data-reason=VALID]")
    hotel.context.close()


def test_a_charge_whose_answer_was_lost_is_asked_again_and_charged_once(
    app: Page, browser: Browser, demo: Demo
) -> None:
    shop = scanner_for(browser, demo, "merchant-wuling-01")
    lost: list[str] = []

    def lose_first_answer(route: Route) -> None:
        if "chargeByCode" in (route.request.post_data or "") and not lost:
            lost.append(route.fetch().text())  # the city charged; the till never hears it
            route.abort()
        else:
            route.continue_()

    shop.route("**/graphql", lose_first_answer)
    shop.set_input_files("#scan-image", fresh_code(app))
    assert results(shop)[0] == "valid"
    shop.fill("#charge input[name=amountFen]", "4321")
    shop.click("#charge button")
    shop.wait_for_selector("#scan-status[data-kind=error]")
    assert lost and '"status":"SUCCEEDED"' in lost[0].replace(" ", "")
    shop.click("#charge button")  # the same code, the same key: the same payment
    shop.wait_for_selector("#scan-status[data-kind=info]")
    first = json.loads(lost[0])["data"]["chargeByCode"]["payment"]["id"]
    assert shop.inner_text("#scan-status") == f"SUCCEEDED · {first}"
    assert shop.is_disabled("#charge button")  # charged: the next code is scanned anew
    shop.context.close()
    listed = shown_soon(app, "money", "#money-payments", "¥43.21")
    assert listed.count("¥43.21") == 1
