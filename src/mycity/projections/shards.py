"""One worker's share of a sharded rebuild: the log read to a head, each record's shard
told by its shard key, and only the worker's own records decoded and folded, a page per
transaction.

A rebuild that folds in one process spends a core on decoding and folding while the
others idle; split by shard key, every worker reads the log (only its own streams'
records and those whose shard only decoding tells, `store.shard_pages`) and decodes and
folds its share. The shards' rows are disjoint by `KeyedFold.shard_key`'s promise, so the
workers never write the same row and their pages may commit in any order. Nothing of
theirs is tracked: the rebuild moves the generation's position to the head once every
shard is done, or starts over.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from mycity.projections.fold import KeyedFold
from mycity.projections.pages import Select, read_pages
from mycity.store.shard_pages import select_shard


def shard_of(key: str, shards: int) -> int:
    """A key's shard, the same in every process: for a stream's id (the text of a UUID),
    its last byte, which the database can tell too (`store.shard_pages`); for any other
    key a stable hash. Both spread evenly."""
    if len(key) == 36:
        try:
            return int(key[34:], 16) % shards
        except ValueError:
            pass
    return zlib.crc32(key.encode()) % shards


def fold_shard(
    app: Any,
    projection: KeyedFold,
    shard: int,
    shards: int,
    head: int,
    page_size: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Fold this shard's records of the log up to `head` into the projection's store;
    returns how many it folded. `progress` hears the position reached after each page."""
    folded = 0
    select = _shard_select(app, projection, shard, shards)
    reading = read_pages(
        app, 0, head, topics=projection.topics, raw=True, page_size=page_size, select=select
    )
    with reading as pages:
        for page in pages:
            if mine := _mine(app.mapper, projection, page.items, shard, shards):
                with projection.view.db.transaction() as cur:
                    projection.fold_rows(cur, mine)
                folded += len(mine)
            if progress:
                progress(page.last)
    return folded


def _shard_select(app: Any, projection: KeyedFold, shard: int, shards: int) -> Select | None:
    """Pages with the other shards' streams left out by the database (streams named by
    UUIDs, in PostgreSQL or SQLite); else every record comes, and `_mine` sorts."""
    recorder = app.recorder
    everywhere = projection.elsewhere
    if (
        everywhere is None
        or not isinstance(recorder, PostgresApplicationRecorder | SQLiteApplicationRecorder)
        or recorder.datastore.originator_id_type != "uuid"
    ):
        return None

    def select(start: int, limit: int, stop: int, topics: Sequence[str]) -> Sequence[Any]:
        return select_shard(recorder, start, limit, stop, topics, everywhere, shard, shards)

    return select


def _mine(
    mapper: Any, projection: KeyedFold, records: list[Any], shard: int, shards: int
) -> list[Any]:
    """The shard's items of a page: stored records for a raw read model, else events, each
    decoded once (those whose shard only the event tells first), a page's people's keys
    looked up together: of the retention classes the read model `opens` only."""
    keys = [projection.shard_key(record) for record in records]
    decoded: dict[int, Any] = {}
    opens = projection.opens
    if not projection.raw:
        unknown = [record for record, key in zip(records, keys, strict=True) if key is None]
        mapper.prefetch(unknown, opens)
        decoded = {record.id: mapper.decode(record, opens) for record in unknown}
    mine = []
    for record, key in zip(records, keys, strict=True):
        if key is None:  # told by the item itself: the event decoded above, or the record
            key = projection.key(decoded.get(record.id, record))
        if shard_of(key, shards) == shard:
            mine.append(record)
    if projection.raw:
        return mine
    mapper.prefetch([record for record in mine if record.id not in decoded], opens)
    return [decoded.get(r.id) or mapper.decode(r, opens) for r in mine]
