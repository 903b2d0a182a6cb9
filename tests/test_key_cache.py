"""The vault's cache of people's keys, which a follower of the log reads a page at a time:
the page's keys in one query, whatever the cache held before."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from mycity.bootstrap import City


def test_a_page_of_people_last_seen_long_ago_is_opened_after_one_query(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache full, a page of five people it holds as its oldest and five it does not:
    loading the five must not evict the others, or each would be looked up alone (and,
    in a long rebuild, every person after them: one query an event)."""
    vault = city.files.vault
    vault.cache_size = 10
    people = [uuid4() for _ in range(15)]
    sealed = dict(zip(people, vault.seal_each([(p, p.bytes) for p in people]), strict=True))
    held, unknown = people[:10], people[10:]
    vault._keys.clear()
    vault._opening.clear()
    vault.prefetch(held)
    oldest = list(vault._keys)[:5]
    queries: list[list[UUID]] = []
    select = vault._select
    monkeypatch.setattr(vault, "_select", lambda asked: queries.append(asked) or select(asked))

    page = oldest + unknown
    vault.prefetch(page)
    assert vault.open_all([sealed[p] for p in page]) == [p.bytes for p in page]
    assert [sorted(asked) for asked in queries] == [sorted(unknown)]
