"""Backups that cannot bring an erased person back (issue: restoring `data_keys` from a
backup older than an erasure restored the key): `mycity backup`, then an erasure, then
`mycity restore` of that backup, on SQLite and PostgreSQL; and the shred ledger itself."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

from typer.testing import CliRunner

from mycity.bootstrap import build
from mycity.cli import cli
from mycity.domain.citizen import Citizen
from mycity.domain.personal import Retention
from mycity.settings import Settings
from mycity.store import backups
from mycity.store.seals import key_id
from mycity.store.shred_ledger import ShredLedger
from tests.helpers import OFFICER, WHY, CitizenFactory
from tests.services import past_retention, settle


def mycity(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(cli, list(args), env=env)
    return done.exit_code, done.stdout, done.stderr


def test_a_backup_taken_before_an_erasure_restores_with_the_person_still_erased(
    settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    city = build(settings)
    try:
        people = CitizenFactory(city)
        gone, kept = people.register("去"), people.register("留")
        city.citizens.change_contact(gone.principal, None, None, "人民路1号")
        city.read_models.catch_up()
        code, out, err = mycity(env, "backup", str(tmp_path / "backup"))
        assert code == 0, err
        assert "backed up the" in out
        settle(city)  # the retention schedule, read for the receipt
        city.privacy.erase_own(gone.principal, people.code_for(gone.phone))
        past_retention(city, gone)
    finally:
        city.close()
    both = {key_id(gone.id, r) for r in Retention}
    assert set(ShredLedger(settings.shred_ledger).subjects()) == both

    code, out, err = mycity(env, "restore", str(tmp_path / "backup"))
    assert code == 0, err
    assert "2 data keys of erased people shredded again" in out

    again = build(settings)
    try:
        events = list(again.files.events.get(gone.id))  # the log as the backup had it
        assert [type(e).__name__ for e in events] == ["Registered", "ContactChanged"]
        assert (events[0].name, events[0].id_number, events[1].address) == (None, None, None)
        assert all(again.files.vault.is_shredded(key) for key in both)
        profile = again.reads.citizens.profile(OFFICER, gone.id, WHY)
        assert profile is not None and (profile.name, profile.address) == (None, None)
        assert again.files.read(Citizen, kept.id).name == "留"
    finally:
        again.close()


def test_a_backup_needs_a_new_directory_and_a_restore_a_backup(
    settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    build(settings).close()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    code, _, err = mycity(env, "backup", str(tmp_path / "full"))
    assert (code, err.count("\n")) == (2, 1) and "name a new directory" in err
    code, _, err = mycity(env, "restore", str(tmp_path / "nothing"))
    assert (code, err.count("\n")) == (2, 1) and "holds no backup" in err
    other = tmp_path / "other"
    other.mkdir()
    store = "sqlite" if settings.is_postgres else "postgres"
    manifest = {"format": 1, "store": store, "schema": None, "taken_at": "2026-12-06T00:00:00"}
    (other / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = mycity(env, "restore", str(other))
    assert code == 2 and f"a backup of a {store} store" in err


def test_the_ledger_keeps_whole_lines_and_merges_what_it_lacks(tmp_path: Path) -> None:
    live, kept = ShredLedger(tmp_path / "live.jsonl"), ShredLedger(tmp_path / "kept.jsonl")
    first, second, third = uuid4(), uuid4(), uuid4()
    live.record(first, 1.0)
    kept.record(first, 1.0)
    kept.record(second, 2.0)
    with kept.path.open("a") as torn:  # a crash in the middle of a line
        torn.write('{"subject": "' + str(third)[:10])
    assert list(kept.subjects()) == [first, second]
    assert live.merge(kept) == 1
    assert list(live.subjects()) == [first, second]
    kept.record(third, 3.0)  # after the torn line, on a line of its own
    assert list(kept.subjects()) == [first, second, third]
    assert list(ShredLedger(tmp_path / "absent.jsonl").subjects()) == []


def test_a_store_put_back_without_the_command_is_shredded_again_when_a_city_opens_it(
    settings: Settings, tmp_path: Path
) -> None:
    """A restore that died before it shredded again, or a copy put back by hand: every
    city built on the store re-applies the ledger first."""
    city = build(settings)
    try:
        people = CitizenFactory(city)
        gone = people.register("去")
        backups.take(settings, tmp_path / "backup")
        settle(city)  # the retention schedule, read for the receipt
        city.privacy.erase_own(gone.principal, people.code_for(gone.phone))
    finally:
        city.close()
    backups.restore(settings, tmp_path / "backup")  # the store only, as before the erasure
    again = build(settings)
    try:
        assert again.files.vault.shredded_again == 1  # the service activity's key
        assert again.files.vault.is_shredded(key_id(gone.id, Retention.SERVICE_ACTIVITY))
        [registered, *_] = again.files.events.get(gone.id)
        assert (registered.phone, registered.name) == (None, "去")  # the statutory record kept
    finally:
        again.close()
