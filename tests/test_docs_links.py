"""Nothing in README.md or docs/ points outside the repository, and every link in them
resolves as GitHub renders it: the file is there, and so is the heading its `#anchor` names."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.docs_markdown import DOCS, ROOT, anchors, links

SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")  # https:, mailto:: not a path in the repo
PARENT_PATH = re.compile(r"(?<![\w./-])(?:\.\./)+[^\s`)'\"\]>|]*")


def leaving(doc: Path, text: str) -> list[str]:
    """The `../` paths in a doc's text (links, code, prose) that resolve outside the repo."""
    return [
        path
        for path in PARENT_PATH.findall(text)
        if not (doc.parent / path).resolve().is_relative_to(ROOT)
    ]


def broken(doc: Path) -> list[str]:
    """Each relative link of the doc that leaves the repository or finds nothing there."""
    found: list[str] = []
    for line, href in links(doc):
        if SCHEME.match(href):
            continue
        path, _, anchor = (unquote(part) for part in href.partition("#"))
        target = (doc.parent / path).resolve() if path else doc
        if not target.is_relative_to(ROOT):
            found.append(f"line {line}: {href} leaves the repository")
        elif not target.exists():
            found.append(f"line {line}: {href}: no such file")
        elif anchor and (target.suffix != ".md" or anchor not in anchors(target)):
            found.append(f"line {line}: {href}: no such heading in {target.name}")
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: str(doc.relative_to(ROOT)))
def test_nothing_points_outside_the_repository(doc: Path) -> None:
    assert leaving(doc, doc.read_text()) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: str(doc.relative_to(ROOT)))
def test_every_link_and_anchor_resolves(doc: Path) -> None:
    assert broken(doc) == []


def test_a_path_leaving_the_repository_is_found_wherever_it_is_written() -> None:
    readme, operations = ROOT / "README.md", ROOT / "docs" / "operations.md"
    assert leaving(readme, "is sketched in `../shared/ROADMAP.md`.") == ["../shared/ROADMAP.md"]
    assert leaving(readme, "[roadmap](../shared/ROADMAP.md)") == ["../shared/ROADMAP.md"]
    assert leaving(operations, "[the README](../README.md), `./x`, `a/../b`") == []


def test_anchors_are_made_as_github_makes_them(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "# The city code (一码通城)\n\n## 4. 容缺: accepting with a material missing\n\n"
        "### Scanning (`scanCityCode`)\n\n## Uploads\n\n## Uploads\n\n    # not a heading\n"
    )
    assert anchors(doc) == {
        "the-city-code-一码通城",
        "4-容缺-accepting-with-a-material-missing",
        "scanning-scancitycode",
        "uploads",
        "uploads-1",
    }
