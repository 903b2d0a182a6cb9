"""What a citizen does not see but relies on: accessibility, a light first load, an app that
installs and opens offline, tokens that never travel in a URL or reach the logs, a strict
Content-Security-Policy kept, and signing out and closing the account."""

from __future__ import annotations

import json

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page

from tests.app.conftest import PHONE_SIZE, Demo, log_in, screenshot

SCREENS = ("code", "wallet", "apply", "money", "me")
LIMIT_BYTES = 200 * 1024  # the first load's JavaScript and CSS, compressed


def serious(page: Page) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]


def signed_in(browser: Browser, demo: Demo, phone: str) -> Page:
    return log_in(browser.new_context(viewport=PHONE_SIZE, base_url=demo.url), demo, phone)


@pytest.mark.parametrize("screen", SCREENS)
def test_each_screen_passes_axe_with_no_serious_violation(app: Page, screen: str) -> None:
    app.click(f"#tabs button[data-screen={screen}]")
    app.wait_for_selector(f"body[data-ready={screen}]")
    assert serious(app) == []


def test_the_login_and_the_scanner_pass_axe(browser: Browser, demo: Demo) -> None:
    page = browser.new_context(viewport=PHONE_SIZE, base_url=demo.url).new_page()
    for path in ("/app/", "/scan/"):
        page.goto(path)
        page.wait_for_selector("body[data-ready=login]")
        assert serious(page) == [], path
    page.goto("/app/")
    page.wait_for_selector("body[data-ready=login]")
    screenshot(page, "login")
    page.context.close()


def test_the_first_load_is_under_200_kb_of_script_and_style(browser: Browser, demo: Demo) -> None:
    page = browser.new_context(viewport=PHONE_SIZE, base_url=demo.url).new_page()
    page.goto("/app/")
    page.wait_for_selector("body[data-ready=login]")
    loaded = page.evaluate(
        """() => performance.getEntriesByType("resource")
             .filter((r) => /\\.(m?js|css)$/.test(new URL(r.name).pathname))
             .map((r) => [new URL(r.name).pathname, r.encodedBodySize, r.decodedBodySize])"""
    )
    assert {"/app/app.js", "/app/app.css", "/lib/qr.js", "/vendor/qrcode-generator/qrcode.mjs"} <= {
        path for path, _, _ in loaded
    }
    compressed = sum(size for _, size, _ in loaded)
    assert compressed < sum(size for _, _, size in loaded)  # served compressed
    assert compressed <= LIMIT_BYTES, loaded
    page.context.close()


def test_the_app_installs_and_opens_offline(browser: Browser, demo: Demo) -> None:
    context = browser.new_context(viewport=PHONE_SIZE, base_url=demo.url)
    page = context.new_page()
    page.goto("/app/")
    page.wait_for_selector("body[data-ready=login]")
    manifest = json.loads(httpx.get(f"{demo.url}/app/manifest.webmanifest").text)
    assert manifest["start_url"] == "/app/" and manifest["display"] == "standalone"
    assert page.evaluate("async () => (await navigator.serviceWorker.ready).active.state")
    page.reload()  # now controlled by the worker, which cached the shell
    page.wait_for_selector("body[data-ready=login]")
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready=login]")
    assert page.is_visible("#login-phone")
    context.close()


def test_no_token_in_a_url_or_the_server_log_and_no_policy_broken(
    citizen: BrowserContext, demo: Demo
) -> None:
    page = citizen.new_page()
    urls: list[str] = []
    complaints: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.on("websocket", lambda socket: urls.append(socket.url))
    page.on(
        "console", lambda m: complaints.append(m.text) if "Content Security" in m.text else None
    )
    page.goto("/app/")
    page.wait_for_selector("body[data-ready=code]")
    for screen in SCREENS:
        page.click(f"#tabs button[data-screen={screen}]")
        page.wait_for_selector(f"body[data-ready={screen}]")
    refresh = page.evaluate("() => localStorage.getItem('mycity.refreshToken')")
    page.close()
    assert refresh and urls and complaints == []
    assert not [u for u in urls if "eyJ" in u or refresh in u or "token" in u.lower()]
    log = (demo.data_dir / "server.log").read_text()
    assert "eyJ" not in log and refresh not in log


def test_the_pages_are_served_with_a_strict_policy(demo: Demo) -> None:
    for path in ("/app/", "/scan/", "/lib/verify.js", "/vendor/jsqr/jsQR.js"):
        answer = httpx.get(demo.url + path)
        policy = answer.headers["content-security-policy"]
        assert answer.status_code == 200 and "unsafe-inline" not in policy
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_logging_out_ends_the_session_and_leaves_nothing_on_screen(
    browser: Browser, demo: Demo
) -> None:
    page = signed_in(browser, demo, "13807360002")
    page.wait_for_function("() => document.querySelector('#code-qr').dataset.payload")
    for screen in ("money", "me"):
        page.click(f"#tabs button[data-screen={screen}]")
        page.wait_for_selector(f"body[data-ready={screen}]")
    assert page.inner_text("#credit-score") != "–"
    refresh = page.evaluate("() => localStorage.getItem('mycity.refreshToken')")
    page.click("#log-out")
    page.wait_for_selector("body[data-ready=login]")
    assert page.evaluate("() => localStorage.getItem('mycity.refreshToken')") is None
    left = page.evaluate(
        """() => [...document.querySelectorAll("[data-personal]")].map((e) => e.textContent)
             .filter((text) => text !== "")"""
    )
    assert left == [] and page.get_attribute("#code-qr", "data-payload") is None
    again = httpx.post(
        f"{demo.url}/graphql",
        json={
            "query": "mutation($t: String!) { refreshTokens(input: {refreshToken: $t}) "
            "{ tokens { accessToken } userErrors { code } } }",
            "variables": {"t": refresh},
        },
    ).json()["data"]["refreshTokens"]
    assert again["tokens"] is None and again["userErrors"]
    page.context.close()


def test_closing_the_account_gives_the_receipt_and_signs_out(browser: Browser, demo: Demo) -> None:
    phone = "13807360003"
    page = signed_in(browser, demo, phone)
    page.click("#tabs button[data-screen=me]")
    page.wait_for_selector("body[data-ready=me]")
    page.click("#me-close-code")
    page.wait_for_selector("#me-status[data-kind=info]")
    page.fill("#me-close input[name=code]", demo.sms_code(phone))
    page.click("#me-close button[type=submit]")
    page.wait_for_selector("#me-receipt h3")
    assert page.is_visible("#login") and page.inner_text("#me-receipt h3") == "注销回执"
    page.context.close()
