"""Reading a data file's entries (the catalogue's, the credit rules'), each refusal naming
the file, the entry and the field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NoReturn

Shape = tuple[re.Pattern[str], str]  # a pattern, and what a refusal says was expected


class CatalogueError(ValueError):
    """A malformed catalogue: the message names the file, the item and the field."""


class Reader:
    """Reads the values of one entry, naming the file and the entry in every refusal."""

    def __init__(self, where: str, error: type[ValueError] = CatalogueError) -> None:
        self.where = where
        self.error = error

    def fail(self, field: str, problem: str) -> NoReturn:
        raise self.error(f"{self.where}: {field}: {problem}")

    def entry(
        self, field: str, value: Any, required: tuple[str, ...], optional: Mapping[str, Any]
    ) -> dict[str, Any]:
        """An object with these keys, the optional ones filled in with their defaults."""
        if not isinstance(value, dict):
            self.fail(field or "document", "expected an object")
        prefix = f"{field}." if field else ""
        for key in value:
            if key not in required and key not in optional:
                self.fail(prefix + str(key), "unknown key")
        for key in required:
            if key not in value:
                self.fail(prefix + key, "missing")
        return {**optional, **value}

    def text(self, field: str, value: Any, shape: Shape) -> str:
        if not isinstance(value, str) or not shape[0].match(value):
            self.fail(field, f"expected {shape[1]}")
        return value

    def name(self, field: str, value: Any) -> str:
        if not isinstance(value, str) or not 0 < len(value) <= 60 or not value.isprintable():
            self.fail(field, "expected a name of 1 to 60 printable characters")
        if value != value.strip():
            self.fail(field, "expected no spaces around the name")
        return value

    def flag(self, field: str, value: Any) -> bool:
        if not isinstance(value, bool):
            self.fail(field, "expected true or false")
        return value

    def number(self, field: str, value: Any, lowest: int, highest: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(field, "expected a whole number")
        if not lowest <= value <= highest:
            self.fail(field, f"expected {lowest} to {highest}, not {value}")
        return value

    def choice(self, field: str, value: Any, kinds: type[StrEnum]) -> str:
        allowed = [kind.value for kind in kinds]
        if value not in allowed:
            self.fail(field, f"expected {', '.join(allowed[:-1])} or {allowed[-1]}")
        return str(value)

    def array(self, field: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            self.fail(field, "expected a list")
        return value

    def names(self, field: str, value: Any, shape: Shape) -> tuple[str, ...]:
        """A list of distinct codes or field names."""
        found: list[str] = []
        for i, raw in enumerate(self.array(field, value)):
            one = self.text(f"{field}[{i}]", raw, shape)
            if one in found:
                self.fail(f"{field}[{i}]", f"{one} is listed twice")
            found.append(one)
        return tuple(found)
