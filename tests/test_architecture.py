"""The dependency rule of docs/architecture.md, checked against the import lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).parent.parent / "src" / "mycity"

# package -> the other mycity packages and modules it may import (docs/architecture.md §2)
ALLOWED = {
    "verifier": set(),  # vendored by partners: the standard library and cryptography only
    "domain": set(),
    "data": {"domain"},  # the catalogue and calendar that ship with the package
    "integrations": {"private", "verifier"},
    "store": {"domain", "settings"},
    "identity": {"domain", "data", "settings", "store", "integrations", "private", "verifier"},
    "policy": {"domain", "identity", "verifier"},
    "projections": {"domain", "data", "store", "verifier"},  # data: the retention rules
    "processes": {"domain", "store", "projections"},
    "usecases": {
        "domain",
        "identity",
        "policy",
        "integrations",
        "store",
        "projections",
        "verifier",
        "settings",
    },
    "reads": {"domain", "identity", "policy", "projections", "store", "verifier"},
    "graphql": {
        "domain",
        "identity",
        "policy",
        "projections",
        "reads",
        "usecases",
        "verifier",
        "bootstrap",
    },
}


def imported(path: Path) -> set[str]:
    """The mycity packages (or top-level modules) a module imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("mycity.") and "." in n}
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_down_and_inward(package: str) -> None:
    offenders = {
        path.relative_to(SOURCE).as_posix(): sorted(imported(path) - ALLOWED[package] - {package})
        for path in (SOURCE / package).rglob("*.py")
    }
    assert {m: bad for m, bad in offenders.items() if bad} == {}


def test_no_module_is_over_400_lines() -> None:
    long = {
        p.relative_to(SOURCE).as_posix(): n
        for p in SOURCE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}
