"""Searching the directory of citizens and enterprises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mycity.identity.principal import Principal
from mycity.policy import directory as policy
from mycity.projections.directory import DirectoryEntries, DirectoryEntryView
from mycity.reads.door import Door


@dataclass(frozen=True)
class DirectoryReads:
    # What a request that wrote waits for before reading.
    read_models: ClassVar[tuple[str, ...]] = ("directory",)

    door: Door
    entries: DirectoryEntries

    def search(
        self,
        principal: Principal,
        text: str,
        kind: str | None,
        first: int,
        after: tuple[str, str] | None,
        purpose: str | None = None,
    ) -> list[DirectoryEntryView]:
        """Up to `first` entries for `text`, and one more if there are more (for the
        page's `hasNextPage`); each entry shown is recorded."""
        grant = self.door.enter(
            principal,
            "directory.search",
            [],
            lambda: policy.search(principal),
            fields=policy.ENTRY,
            purpose=purpose,
        )
        found = self.entries.search(text, kind, first + 1, after)
        shown = [e.id for e in found[:first]]
        self.door.record(
            principal, "directory.search", shown, grant, fields=policy.ENTRY, purpose=purpose
        )
        return found
