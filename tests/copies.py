"""Third-party files copied into the package (GraphiQL's, the app's): what the package
ships, and what a copies folder's README lists against what is there."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

from tests.docs_markdown import ROOT

PACKAGE = ROOT / "src" / "mycity"


def packaged() -> set[Path]:
    """Every file the package data patterns of pyproject.toml take."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = setuptools["package-data"]["mycity"]
    return {path for pattern in patterns for path in PACKAGE.glob(pattern) if path.is_file()}


def listed_and_found(
    folder: Path, suffixes: tuple[str, ...]
) -> tuple[dict[str, str], dict[str, str]]:
    """The sha256 the folder's README lists for each copy, and each copy's own."""
    readme = (folder / "README.md").read_text()
    listed = dict(re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", readme, re.M))
    found = {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.rglob("*")
        if path.suffix in suffixes
    }
    return listed, found
