"""The real-name check: does this ID number belong to a person of this name?

In production this asks the public-security authority's identity service. The local
implementation answers from a population register file (JSON lines of
`{"id_number": ..., "name": ...}`) that the demo fills and operators may replace.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol


class Verdict(StrEnum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True)
class RealNameResult:
    verdict: Verdict
    reference: str  # the authority's reference for this check, kept as evidence


class RealNameCheck(Protocol):
    def check(self, id_number: str, name: str) -> RealNameResult: ...


class PopulationRegister:
    """A local register of persons, read from a JSON-lines file on each check."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, id_number: str, name: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"id_number": id_number, "name": name}, ensure_ascii=False) + "\n")

    def check(self, id_number: str, name: str) -> RealNameResult:
        reference = "local-" + hashlib.sha256(f"{id_number}:{name}".encode()).hexdigest()[:16]
        known = self._names().get(id_number)
        if known is None:
            return RealNameResult(Verdict.NOT_FOUND, reference)
        return RealNameResult(Verdict.MATCH if known == name else Verdict.MISMATCH, reference)

    def _names(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        records = (json.loads(line) for line in self.path.read_text("utf-8").splitlines() if line)
        return {r["id_number"]: r["name"] for r in records}
