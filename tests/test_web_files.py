"""The app's pages as files: every GraphQL operation they send is valid against the schema,
no HTML page holds inline script or style (the CSP forbids both), no script builds markup
from text, the service worker caches every file the app loads, and the vendored copies are
package data, exactly as their README lists them."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import pytest
from graphql import parse, specified_rules, validate

from mycity.graphql.limits import RULES
from mycity.graphql.schema import schema
from tests.copies import listed_and_found, packaged
from tests.docs_markdown import ROOT

WEB = ROOT / "src" / "mycity" / "static" / "web"
VENDOR = WEB / "vendor"
OURS = [p for d in ("app", "scan", "lib") for p in sorted((WEB / d).glob("*.js"))]
PAGES = [WEB / "app" / "index.html", WEB / "scan" / "index.html"]
OPERATION = re.compile(r"[`\"]((?:query|mutation|subscription) [A-Za-z]+[^`\"]*)[`\"]", re.S)
CONSTANT = re.compile(r'^const ([A-Z_]+) = "([^"]*)";$', re.M)


def operations(source: str) -> list[str]:
    """The operations a script sends, its string constants put in their `${NAME}`s."""
    constants = dict(CONSTANT.findall(source))
    found = []
    for text in OPERATION.findall(source):
        for name, value in constants.items():
            text = text.replace(f"${{{name}}}", value)
        found.append(text)
    return found


@pytest.mark.parametrize("script", OURS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_operation_a_page_sends_is_valid(script: Path) -> None:
    for operation in operations(script.read_text()):
        assert "${" not in operation, operation
        errors = validate(schema._schema, parse(operation), [*specified_rules, *RULES])
        assert errors == [], (operation, errors)


def test_the_pages_send_operations_of_every_kind() -> None:
    sent = [op for script in OURS for op in operations(script.read_text())]
    assert {op.split()[0] for op in sent} == {"query", "mutation", "subscription"}
    assert len(sent) >= 20


class Inline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.loaded: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names:
            self.found.append("an inline <script>")
        if tag == "style" or "style" in names:
            self.found.append(f"a style on <{tag}>")
        self.found += [f"{name} on <{tag}>" for name in names if name.startswith("on")]
        if tag == "script" or (tag == "link" and names.get("rel") in ("stylesheet", "manifest")):
            self.loaded.append(names.get("src") or names.get("href") or "")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.parent.name)
def test_no_page_holds_inline_script_or_style(page: Path) -> None:
    parser = Inline()
    parser.feed(page.read_text())
    assert parser.found == [] and parser.loaded


def test_no_script_turns_text_into_markup_or_code() -> None:
    for script in OURS:
        source = script.read_text()
        for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert risky not in source, (script, risky)
        assert "new Function" not in source, script


def test_the_service_worker_caches_every_file_the_app_loads() -> None:
    worker = (WEB / "app" / "sw.js").read_text()
    cached = set(re.findall(r'"(/[^"]*)"', worker.split("];")[0]))
    parser = Inline()
    parser.feed((WEB / "app" / "index.html").read_text())
    wanted = {"/app/"} | {
        str(PurePosixPath("/app") / p) if not p.startswith("/") else p for p in parser.loaded
    }
    pending = [path for path in wanted if path.endswith((".js", ".mjs"))]
    while pending:  # the modules each module imports
        path = pending.pop()
        for imported in re.findall(
            r'^import .* from "([^"]+)";$', (WEB / path[1:]).read_text(), re.M
        ):
            found = str(PurePosixPath(path).parent.joinpath(imported)).replace("/app/../", "/")
            found = re.sub(r"/[^/]+/\.\./", "/", found)
            if found not in wanted:
                wanted.add(found)
                pending.append(found)
    assert wanted <= cached, wanted - cached
    for path in cached - {"/app/"}:
        assert (WEB / path[1:]).is_file(), path


def test_the_copies_are_package_data_and_as_the_readme_lists_them() -> None:
    served = {path for path in WEB.rglob("*") if path.is_file() and path.name != "README.md"}
    assert served - packaged() == set()
    listed, found = listed_and_found(VENDOR, (".js", ".mjs"))
    assert listed == found
    for line in (VENDOR / "sources.txt").read_text().splitlines():
        assert (VENDOR / line.split()[2]).is_file(), line
