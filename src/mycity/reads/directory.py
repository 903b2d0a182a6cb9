"""Searching the directory of citizens and enterprises."""

from __future__ import annotations

from mycity.identity.principal import Principal
from mycity.policy import directory as policy
from mycity.projections.directory import DirectoryEntries, DirectoryEntryView
from mycity.reads.door import Door


class DirectoryReads:
    read_models = ("directory",)  # what a request that wrote waits for before reading

    def __init__(self, door: Door, entries: DirectoryEntries) -> None:
        self.door = door
        self.entries = entries

    def search(
        self,
        principal: Principal,
        text: str,
        kind: str | None,
        first: int,
        after: tuple[str, str] | None,
    ) -> list[DirectoryEntryView]:
        """Up to `first` entries whose name starts with `text`, and one more if there are
        more (for the page's `hasNextPage`); each entry shown is recorded."""
        grant = self.door.enter(principal, "directory.search", [], lambda: policy.search(principal))
        found = self.entries.search(text, kind, first + 1, after)
        self.door.record(principal, "directory.search", [e.id for e in found[:first]], grant)
        return found
