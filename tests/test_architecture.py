"""The dependency rule of docs/architecture.md, checked against the import lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).parent.parent / "src" / "mycity"

# package -> the mycity packages it must never import
NEVER = {
    "domain": {
        "store",
        "identity",
        "policy",
        "usecases",
        "reads",
        "projections",
        "processes",
        "graphql",
        "integrations",
        "bootstrap",
        "settings",
    },
    "integrations": {
        "domain",
        "store",
        "identity",
        "policy",
        "usecases",
        "reads",
        "projections",
        "processes",
        "graphql",
        "bootstrap",
    },
    "store": {
        "identity",
        "policy",
        "usecases",
        "reads",
        "projections",
        "processes",
        "graphql",
        "bootstrap",
    },
    "identity": {"usecases", "reads", "projections", "processes", "graphql", "bootstrap"},
    "policy": {"store", "usecases", "reads", "projections", "processes", "graphql", "bootstrap"},
    "projections": {"identity", "policy", "usecases", "reads", "processes", "graphql", "bootstrap"},
    "processes": {"usecases", "reads", "graphql", "bootstrap"},
    "usecases": {"reads", "projections", "processes", "graphql", "bootstrap"},
    "reads": {"usecases", "processes", "graphql", "bootstrap"},
    "graphql": {"usecases", "processes", "store"},
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


@pytest.mark.parametrize("package", sorted(NEVER))
def test_imports_point_down_and_inward(package: str) -> None:
    offenders = {
        path.relative_to(SOURCE).as_posix(): sorted(imported(path) & NEVER[package])
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
