"""The app's pages in a real headless Chromium: Debian's `chromium` package, given by path
(nothing is downloaded), driven by Playwright against `mycity serve --demo` started here.
Without the browser these tests skip and say why, except with CI=true, where that fails."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from mycity.graphql.context import STORE_THREAD_NAME
from mycity.integrations.sms import OutboxSms
from tests.conftest import fail_on_threads_left

CHROMIUM = os.environ.get("MYCITY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
PHONE = "13807360001"  # 王芳, who holds a residence permit in the demo
CODE_SECONDS = 4  # the demo's city codes live 4 s here, so a refresh comes within 3 s
PHONE_SIZE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "app"


@dataclass(frozen=True)
class Demo:
    url: str
    data_dir: Path
    logins: dict[str, dict[str, str]]

    def sms_code(self, phone: str) -> str:
        """The last one-time code texted to `phone`, as `mycity sms outbox` shows it."""
        text = OutboxSms(self.data_dir / "sms-outbox.jsonl").messages(phone)[-1]["text"]
        return re.findall(r"\d{6}", text)[0]

    def secret(self, client_id: str) -> str:
        return self.logins[client_id]["secret"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def no_thread_left_running() -> Iterator[None]:
    """As the suite's, but for the threads of Playwright's event loop (`asyncio_N`), which
    serves all of these tests."""
    before = set(threading.enumerate())
    yield
    fail_on_threads_left(before, (STORE_THREAD_NAME, "asyncio_"))


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`mycity serve --demo` in a directory of its own, as a newcomer runs it."""
    data_dir = tmp_path_factory.mktemp("demo")
    port = _free_port()
    env = {
        **os.environ,
        "MYCITY_DATA_DIR": str(data_dir),
        "MYCITY_CITY_CODE_SECONDS": str(CODE_SECONDS),
    }
    log = (data_dir / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "mycity", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"the demo server did not start:\n{(data_dir / 'server.log').read_text()}"
                )
            time.sleep(0.2)
        logins = json.loads((data_dir / "demo-logins.json").read_text())
        yield Demo(url, data_dir, logins)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        problem = f"no Chromium at {CHROMIUM}: apt-get install chromium (or set MYCITY_CHROMIUM)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem} (CI=true requires the browser)")
        pytest.skip(problem)
    with sync_playwright() as driver:
        yield driver


def launch(playwright: Playwright, *args: str) -> Browser:
    """Debian's Chromium, headless, with a fake camera that needs no asking."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", *args],
    )


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = launch(playwright)
    yield chromium
    chromium.close()


def log_in(context: BrowserContext, demo: Demo, phone: str) -> Page:
    """A page of the app in this context, signed in by phone and the code texted to it."""
    page = context.new_page()
    page.goto("/app/")
    page.wait_for_selector("body[data-ready=login]")
    page.fill("#login-phone input[name=phone]", phone)
    page.click("#login-phone button")
    page.wait_for_selector("#login-status[data-kind=info]")
    page.fill("#login-code input[name=code]", demo.sms_code(phone))
    page.click("#login-code button")
    page.wait_for_selector("body[data-ready=code]")
    return page


@pytest.fixture(scope="package")
def citizen(browser: Browser, demo: Demo) -> Iterator[BrowserContext]:
    """王芳 signed in to the app, phone-sized, once for these tests (a refresh token works
    once: every page of these tests shares this one context and its storage)."""
    context = browser.new_context(viewport=PHONE_SIZE, base_url=demo.url)
    log_in(context, demo, PHONE).close()
    yield context
    context.close()


@pytest.fixture(scope="package")
def origin(browser: Browser, demo: Demo) -> Iterator[Page]:
    """A page of the city's origin, where WebCrypto is available and the modules load."""
    context = browser.new_context(base_url=demo.url)
    page = context.new_page()
    page.goto("/scan/")
    yield page
    context.close()


@pytest.fixture
def app(citizen: BrowserContext) -> Iterator[Page]:
    """A fresh page of the signed-in app, on its city code."""
    page = citizen.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/app/")
    page.wait_for_selector("body[data-ready=code]")
    page.wait_for_function("() => document.querySelector('#code-qr').dataset.payload")
    yield page
    page.close()
    assert errors == []


def scanner_for(browser: Browser, demo: Demo, client_id: str) -> Page:
    """The scanner page, logged in as a demo partner."""
    context = browser.new_context(viewport=PHONE_SIZE, base_url=demo.url)
    page = context.new_page()
    page.goto("/scan/")
    page.fill("input[name=clientId]", client_id)
    page.fill("input[name=clientSecret]", demo.secret(client_id))
    page.click("#login-form button")
    page.wait_for_selector("body[data-ready=scan]")
    return page


def shown_soon(page: Page, screen: str, selector: str, text: str) -> str:
    """The screen's text at `selector` once it holds `text`: a list read from a read model
    shows a fact within seconds, so the screen is opened again until it does."""
    for _ in range(40):
        page.click(f"#tabs button[data-screen={screen}]")
        page.wait_for_selector(f"body[data-ready={screen}]")
        found = page.inner_text(selector)
        if text in found:
            return found
        page.wait_for_timeout(250)
    raise AssertionError(f"{text!r} never shown in {selector}: {found!r}")


def screenshot(page: Page, name: str) -> None:
    """The screen as docs/app.md shows it: written there with MYCITY_SCREENSHOTS=1."""
    if os.environ.get("MYCITY_SCREENSHOTS") == "1":
        page.screenshot(
            path=Path(__file__).parents[2] / "docs" / "app" / f"{name}.png", full_page=True
        )
