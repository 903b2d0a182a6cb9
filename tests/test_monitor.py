"""`mycity audit monitor URL`: an outside auditor's watch on the log over HTTP, with its own
memory of the last checkpoint it accepted. Two cities signing with the same key stand for
a server that shows a rewritten log (or another log to this monitor than to others): the
monitor is pointed at one, then at the other, as at a server whose history changed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from mycity.bootstrap import City
from mycity.cli import cli
from mycity.settings import Settings
from mycity.verifier.checkpoint import Checkpoint, time_line
from mycity.verifier.monitor import Finding, MonitorError, monitor
from mycity.verifier.note import sign_note, verifier_key
from tests.conftest import POSTGRES_URL, Served, serving
from tests.helpers import CitizenFactory


@contextmanager
def another_store(settings: Settings) -> Iterator[Settings]:
    """The same city's keys over a store of its own (another schema, another file)."""
    if not settings.is_postgres:
        yield replace(settings, database_url=str(settings.data_dir / "other.sqlite"))
        return
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield replace(settings, database_url=f"{POSTGRES_URL}?schema={schema}")
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


FACTORIES: dict[int, CitizenFactory] = {}


def grown(city: City, *names: str) -> int:
    """The log grown by these citizens, and a checkpoint signed over it: its size."""
    people = FACTORIES.setdefault(id(city), CitizenFactory(city))
    for name in names:
        people.register(name)
    deadline = time.monotonic() + 10
    while city.audit.tree.head()[1] < city.files.head():  # the runner folds it meanwhile
        assert time.monotonic() < deadline, "the Merkle tree did not reach the log's head"
        city.audit.tree.run_once()
        time.sleep(0.01)
    return city.audit.sign_checkpoint().size


def live(served: Served) -> City:
    found: City = served.app.state.city
    return found


def test_the_monitor_keeps_the_first_checkpoint_then_follows_the_log_as_it_grows(
    served: Served, tmp_path: Path
) -> None:
    city = live(served)
    first = grown(city, "甲")
    report = monitor(served.url, tmp_path)
    assert (report.finding, report.size) == (Finding.FIRST, first)
    assert (tmp_path / "keys.txt").read_text().split() == city.audit.verifier_keys()
    assert monitor(served.url, tmp_path).finding is Finding.SAME
    second = grown(city, "乙", "丙")
    report = monitor(served.url, tmp_path)
    assert (report.finding, report.size, report.kept_size) == (Finding.GREW, second, first)
    assert not report.alert


def test_a_rewritten_log_is_a_split_view_even_with_every_city_checkpoint_gone(
    served: Served, settings: Settings, tmp_path: Path
) -> None:
    seen = grown(live(served), "甲", "乙")
    assert monitor(served.url, tmp_path).finding is Finding.FIRST
    with another_store(settings) as elsewhere, serving(elsewhere) as rewritten:
        # A longer history that is not this one: grown until its tree is the larger (how
        # many events a citizen makes depends on which processes have answered so far).
        names = iter("丁戊己庚辛壬癸")
        while grown(live(rewritten), next(names)) <= seen:
            pass
        report = monitor(rewritten.url, tmp_path)
        assert report.finding is Finding.SPLIT_VIEW and report.alert
        assert report.kept_size == seen
        assert monitor(rewritten.url, tmp_path).finding is Finding.SPLIT_VIEW  # not kept


def test_a_smaller_tree_is_a_rollback(served: Served, settings: Settings, tmp_path: Path) -> None:
    seen = grown(live(served), "甲", "乙")
    monitor(served.url, tmp_path)
    with another_store(settings) as elsewhere, serving(elsewhere) as other:
        assert grown(live(other), "丁") < seen
        report = monitor(other.url, tmp_path)
        assert (report.finding, report.kept_size) == (Finding.ROLLBACK, seen)


def test_another_root_for_the_size_kept_is_a_split_view(tmp_path: Path) -> None:
    """Offline, as a partner vendoring the monitor would test it: two checkpoints of one
    size with different roots, both signed by the key held."""
    key, origin = Ed25519PrivateKey.generate(), "city.example/log"

    def signed(root: bytes) -> str:
        body = Checkpoint(origin, 7, root, (time_line(datetime.now(UTC)),)).text()
        return sign_note(body, origin, key)

    kept, other = signed(bytes(32)), signed(bytes([1]) * 32)
    (tmp_path / "checkpoint.txt").write_text(kept)
    held = [verifier_key(origin, key.public_key().public_bytes_raw())]
    served = {"https://city.example/audit/checkpoint": other}
    report = monitor("https://city.example", tmp_path, held, fetch=served.__getitem__)
    assert (report.finding, report.size, report.kept_size) == (Finding.SPLIT_VIEW, 7, 7)
    assert (tmp_path / "checkpoint.txt").read_text() == kept  # not replaced
    served["https://city.example/audit/checkpoint"] = kept
    assert monitor("https://city.example", tmp_path, held, fetch=served.__getitem__).finding is (
        Finding.SAME
    )


def test_a_checkpoint_not_signed_by_the_key_held_is_an_alert_in_one_line(
    served: Served, tmp_path: Path
) -> None:
    grown(live(served), "甲")
    city = live(served)
    other_key = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    foreign = verifier_key(city.settings.audit.origin, other_key)
    done = CliRunner().invoke(
        cli, ["audit", "monitor", served.url, "--state", str(tmp_path), "--key", foreign]
    )
    assert (done.exit_code, done.stdout.count("\n")) == (1, 1)
    assert done.stdout.startswith("ALERT: bad_signature: ")
    done = CliRunner().invoke(cli, ["audit", "monitor", served.url, "--state", str(tmp_path)])
    assert done.exit_code == 0 and done.stdout.startswith("ok: first: "), done.output


def test_the_consistency_endpoint_serves_hashes_to_anyone_and_refuses_what_is_unsigned(
    served: Served,
) -> None:
    city = live(served)
    first = grown(city, "甲")
    second = grown(city, "乙")
    proof = httpx.get(f"{served.url}/audit/consistency", params={"from": first}).json()
    assert (proof["from_size"], proof["to_size"]) == (first, second)
    assert proof["checkpoint"] == city.audit.checkpoints.latest().note  # type: ignore[union-attr]
    unsigned = httpx.get(f"{served.url}/audit/consistency", params={"from": 1, "to": first + 1})
    assert (unsigned.status_code, unsigned.json()["code"]) == (404, "UNSIGNED_SIZE")
    for bad in ({"from": "-1"}, {"from": "x"}, {}, {"from": "1" + "0" * 20}):  # 21 digits
        refused = httpx.get(f"{served.url}/audit/consistency", params=bad)
        assert (refused.status_code, refused.json()["code"]) == (400, "INVALID_ARGUMENT")
    twenty = httpx.get(f"{served.url}/audit/consistency", params={"from": "1" + "0" * 19})
    assert (twenty.status_code, twenty.json()["code"]) == (400, "TREE_TOO_SMALL")  # a size, read


@pytest.mark.parametrize("url", ["file:///etc/passwd", "city.example"])
def test_only_an_http_address_is_watched(url: str, tmp_path: Path) -> None:
    done = CliRunner().invoke(cli, ["audit", "monitor", url, "--state", str(tmp_path)])
    assert done.exit_code == 1 and "http:// or https://" in done.output


def test_a_key_is_not_taken_on_first_use_over_plain_http_from_another_machine(
    tmp_path: Path,
) -> None:
    asked: list[str] = []
    with pytest.raises(MonitorError, match="--key"):
        monitor("http://city.example", tmp_path, fetch=lambda url: asked.append(url) or "")
    assert asked == [] and not (tmp_path / "keys.txt").exists()
