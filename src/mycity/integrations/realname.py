"""The real-name check: does this ID number belong to a person of this name (and phone)?

In production this asks the public-security authority's identity service, and, with a
phone, the carriers' real-name registration of numbers (a "three-factor" check: ID number,
name and phone together). The local implementation answers from a population register file
(JSON lines of `{"id_number": ..., "name": ..., "phone": ...}`, the phone optional) that the
demo fills and operators may replace.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from mycity.private import append_private


class Verdict(StrEnum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True)
class RealNameResult:
    verdict: Verdict
    reference: str  # the authority's reference for this check, kept as evidence


class RealNameCheck(Protocol):
    def check(self, id_number: str, name: str, phone: str | None = None) -> RealNameResult:
        """MATCH if the number belongs to a person of that name (and, given a phone, the
        phone is registered to them); NOT_FOUND if the authority cannot say."""
        ...


class PopulationRegister:
    """A local register of persons, read from a JSON-lines file on each check."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, id_number: str, name: str, phone: str | None = None) -> None:
        record = {"id_number": id_number, "name": name} | ({"phone": phone} if phone else {})
        append_private(self.path, json.dumps(record, ensure_ascii=False) + "\n")

    def check(self, id_number: str, name: str, phone: str | None = None) -> RealNameResult:
        asked = f"{id_number}:{name}:{phone or ''}"
        reference = "local-" + hashlib.sha256(asked.encode()).hexdigest()[:16]
        known = self._records().get(id_number)
        if known is None or (phone and "phone" not in known):
            return RealNameResult(Verdict.NOT_FOUND, reference)
        matched = known["name"] == name and (not phone or known["phone"] == phone)
        return RealNameResult(Verdict.MATCH if matched else Verdict.MISMATCH, reference)

    def _records(self) -> dict[str, dict[str, str]]:
        """The last record of each ID number (a later line corrects an earlier one)."""
        if not self.path.exists():
            return {}
        records = (json.loads(line) for line in self.path.read_text("utf-8").splitlines() if line)
        return {r["id_number"]: r for r in records}
