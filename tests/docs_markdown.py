"""The repository's Markdown as GitHub renders it: its code, its links and its headings'
anchors, for the tests that keep the README and docs/ true."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).parent.parent
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))


@dataclass(frozen=True)
class Code:
    """A code span, or a fence's text, with where it is (a span's paragraph's first line)."""

    doc: Path
    line: int
    text: str
    info: str | None = None  # a fence's language; None for a code span

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


@cache
def tokens(doc: Path) -> tuple[Token, ...]:
    return tuple(MarkdownIt("commonmark").enable("table").parse(doc.read_text()))


def _inline(doc: Path) -> Iterator[tuple[int, Token]]:
    """Each inline element (text, code span, link) with its block's first line."""
    for block in tokens(doc):
        for child in block.children or ():
            yield (block.map[0] + 1 if block.map else 0), child


def code(doc: Path) -> Iterator[Code]:
    """Every code span (its line breaks read as spaces, as CommonMark does) and fence."""
    for block in tokens(doc):
        if block.type == "fence":
            line = block.map[0] + 1 if block.map else 0
            yield Code(doc, line, block.content, block.info.strip().lower())
    for line, child in _inline(doc):
        if child.type == "code_inline":
            yield Code(doc, line, child.content)


def links(doc: Path) -> Iterator[tuple[int, str]]:
    """Every link's and image's target, with its line."""
    for line, child in _inline(doc):
        if child.type in ("link_open", "image"):
            yield line, str(child.attrs.get("href") or child.attrs.get("src"))


def anchors(doc: Path) -> set[str]:
    """The anchors GitHub gives the document's headings: the heading's text, lower case,
    without punctuation or symbols, spaces made hyphens; a repeated one gets -1, -2, …"""
    seen: Counter[str] = Counter()
    found: set[str] = set()
    blocks = tokens(doc)
    for opening, inline in pairwise(blocks):
        if opening.type != "heading_open":
            continue
        text = "".join(
            c.content for c in inline.children or () if c.type in ("text", "code_inline")
        )
        slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
        found.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return found
