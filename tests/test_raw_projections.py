"""Raw-notification read models: every stored record of every topic, in order, undecoded."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from eventsourcing.persistence import Notification

from mycity.bootstrap import City
from mycity.projections.fold import RawProjection
from mycity.projections.read_models import ReadModels
from mycity.projections.store import Row, TableSpec
from tests.helpers import CitizenFactory


def digest(n: Notification) -> str:
    record = f"{n.id}|{n.originator_id}|{n.originator_version}|{n.topic}|".encode()
    return hashlib.sha256(record + bytes(n.state)).hexdigest()


class StoredRecords(RawProjection):
    """One row per stored event: the hash of the record as stored (as a Merkle leaf is)."""

    name = "stored_records"
    spec = TableSpec(columns=(("position", "TEXT"), ("topic", "TEXT NOT NULL"), ("hash", "TEXT")))

    def key(self, item: Notification) -> str:
        return f"{item.id:012d}"

    def creates(self, item: Notification) -> bool:
        return True

    def apply(self, item: Notification, row: Row | None) -> Row:
        return {"position": f"{item.id:012d}", "topic": item.topic, "hash": digest(item)}


def test_a_raw_read_model_sees_every_record_as_stored_without_decoding(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = people.register("原")
    people.enterprise(person)
    city.citizens.change_contact(person.principal, None, None, "原址")

    def undecodable(*_: Any) -> Any:
        raise AssertionError("a raw read model decoded an event")

    monkeypatch.setattr(city.files.mapper, "to_domain_event", undecodable)
    models = ReadModels(city.files, city.db, projections=(StoredRecords,), page_size=2)
    models.setup()
    models.catch_up()
    stored = city.files.recorder.select_notifications(0, limit=100)
    rows = models.rows("stored_records").select("ORDER BY position", [])
    assert [r["hash"] for r in rows] == [digest(n) for n in stored]
    assert {r["topic"] for r in rows} == {n.topic for n in stored}
    assert len({r["topic"] for r in rows}) >= 4  # citizens, phones, enterprises, changes
    assert models.status()[0]["lag"] == 0
