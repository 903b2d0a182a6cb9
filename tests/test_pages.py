"""What a browser meets: the home page, GraphiQL with the copies of its scripts and styles
that ship with the package, and, outside development, a note saying how to turn it on."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from mycity.app import create_app
from mycity.bootstrap import City, build
from tests.copies import PACKAGE, listed_and_found, packaged

COPIES = PACKAGE / "static" / "graphiql"
ORIGIN = "http://city"

Get = Callable[..., httpx.Response]


@contextmanager
def browsing(city: City, dev: bool) -> Iterator[Get]:
    """GET from the app of this city, in development mode or not."""
    app = create_app(city=build(replace(city.settings, dev_mode=dev)))

    async def fetch(path: str, headers: dict[str, str]) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
            return await client.get(path, headers=headers)

    try:
        yield lambda path, **headers: asyncio.run(fetch(path, headers))
    finally:
        app.state.city.close()


class Elements(HTMLParser):
    """Each start tag of a page, with its attributes."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def sri(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


def test_graphiql_loads_only_the_copies_the_server_serves(city: City) -> None:
    with browsing(city, dev=True) as get:
        page = get("/graphql", accept="text/html")
        assert page.status_code == 200 and "GraphiQL" in page.text
        assets = [
            (attrs.get("src") or attrs.get("href") or "", attrs.get("integrity"))
            for tag, attrs in Elements(page.text).found
            if (tag == "script" and "src" in attrs)
            or (tag == "link" and attrs.get("rel") == "stylesheet")
        ]
        assert len(assets) == 7  # react, react-dom, js-cookie, graphiql (2), explorer (2)
        for url, integrity in assets:
            absolute = urljoin(f"{ORIGIN}/graphql", url)
            assert absolute.startswith(f"{ORIGIN}/static/graphiql/"), url
            answer = get(urlsplit(absolute).path)
            assert answer.status_code == 200, url
            # strawberry's page names each file's hash: the copy is that very file
            assert integrity == sri(answer.content), url
    # No URL in the page leaves the origin (the SVG namespace of its icon is no request).
    elsewhere = set(re.findall(r"https?://[^\s\"'<>%]+", page.text))
    assert elsewhere <= {"http://www.w3.org/2000/svg"}, (
        "strawberry's GraphiQL page names files that are not copied here: update "
        "src/mycity/static/graphiql/sources.txt as its README says"
    )


def test_the_copies_are_package_data_and_as_the_readme_lists_them() -> None:
    copies = {path for path in COPIES.rglob("*") if path.is_file() and path.name != "README.md"}
    assert copies - packaged() == set()
    listed, found = listed_and_found(COPIES, (".js", ".css"))
    assert listed == found
    for line in (COPIES / "sources.txt").read_text().splitlines():
        copy = COPIES / line.split()[2]
        assert copy.is_file() and copy.with_name("LICENSE").is_file(), line


def test_without_development_graphiql_answers_how_to_turn_it_on(city: City) -> None:
    with browsing(city, dev=False) as get:
        browser = get("/graphql", accept="text/html,application/xhtml+xml,*/*;q=0.8")
        anything = get("/graphql", accept="*/*")  # curl's
        copy = get("/static/graphiql/react/react.production.min.js")
    assert browser.status_code == 404  # there is no GraphiQL here
    assert browser.headers["content-type"].startswith("text/html")
    assert "GraphiQL is off" in browser.text
    assert "MYCITY_DEV=1" in browser.text and "never in" in browser.text
    assert anything.status_code == 404
    (error,) = anything.json()["errors"]
    assert "MYCITY_DEV=1" in error["message"] and "never in production" in error["message"]
    assert copy.status_code == 404  # GraphiQL's copies are served in development only


PUBLIC = [
    "/graphql",
    "/.well-known/jwks.json",
    "/city-code/keys",
    "/licences/keys",
    "/audit/checkpoint",
    "/audit/key",
    "/healthz",
    "/readyz",
    "/app/",
    "/scan/",
]


@pytest.mark.parametrize("dev", [False, True])
def test_the_home_page_lists_what_the_server_serves(city: City, dev: bool) -> None:
    with browsing(city, dev) as get:
        page = get("/", accept="text/html,application/xhtml+xml,*/*;q=0.8")
        listing = get("/", accept="application/json")
        answers = {path: get(path).status_code for path in PUBLIC[1:]}
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    links = [
        urlsplit(urljoin(f"{ORIGIN}/", attrs["href"] or "")).path
        for tag, attrs in Elements(page.text).found
        if tag == "a"
    ]
    assert sorted(set(links)) == sorted(PUBLIC)
    assert "docs/" in page.text and "<h1>mycity</h1>" in page.text
    assert ("MYCITY_DEV=1" in page.text) is not dev  # when off, how to turn GraphiQL on
    assert ("GraphiQL, the API in a browser" in page.text) is dev
    assert listing.status_code == 200
    body = listing.json()
    assert body["service"] == "mycity" and "docs/" in body["docs"]
    assert body["graphiql"] == ("/graphql" if dev else None)
    assert set(PUBLIC) <= set(body.values())
    # every path listed answers without a token (no checkpoint is signed yet: 404 says so)
    assert answers == {path: 404 if path == "/audit/checkpoint" else 200 for path in PUBLIC[1:]}


def test_a_browser_that_prefers_json_gets_json_and_curl_gets_the_page(city: City) -> None:
    with browsing(city, dev=False) as get:
        prefers = get("/", accept="text/html;q=0.5, application/json")
        curl = get("/", accept="*/*")
    assert prefers.json()["service"] == "mycity"
    assert curl.headers["content-type"].startswith("text/html")
