"""The city's side of witnessing: each checkpoint it signs goes to the witnesses it is
configured with (real ones, served over HTTP), and comes back carrying their cosignatures;
a witness out of reach costs only its own cosignature; `audit verify --against` demands K."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from mycity.bootstrap import City, build
from mycity.cli import cli
from mycity.integrations.witness import Witness, create_witness_app
from mycity.settings import Settings, SettingsError
from mycity.verifier.cosignature import cosigned_by, parse_cosigner_key
from mycity.verifier.monitor import Finding, monitor
from tests.conftest import free_port
from tests.helpers import CitizenFactory

NAMES = ("witness.example/w1", "witness.example/w2")


@contextmanager
def served(app: Any, port: int) -> Iterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True, name="witness")
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the witness did not start"
            time.sleep(0.02)
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def witnessed(settings: Settings, tmp_path: Path) -> Iterator[tuple[City, list[str], list[int]]]:
    """A city configured with two witnesses (the second never served): the city, the
    witnesses' keys and ports."""
    ports = [free_port(), free_port()]
    keys = [Witness(tmp_path / f"w{i}", name, []).public_key for i, name in enumerate(NAMES)]
    addresses = [f"http://127.0.0.1:{port}" for port in ports]
    audit = replace(settings.audit, witnesses=tuple(zip(addresses, keys, strict=True)))
    city = build(replace(settings, audit=audit))
    first = Witness(tmp_path / "w0", NAMES[0], city.audit.verifier_keys())
    try:
        with served(create_witness_app(first), ports[0]):
            yield city, keys, ports
    finally:
        city.close()


def test_a_checkpoint_comes_back_with_the_cosignatures_of_the_witnesses_in_reach(
    witnessed: tuple[City, list[str], list[int]], tmp_path: Path
) -> None:
    city, keys, _ = witnessed
    people = CitizenFactory(city)
    cosigners = [parse_cosigner_key(key) for key in keys]
    people.register("甲")
    first = city.audit.sign_checkpoint()
    assert list(cosigned_by(first.note, cosigners)) == [NAMES[0]]  # the second is down
    assert city.audit.checkpoints.latest() == first  # what /audit/checkpoint serves
    assert city.audit.sign_checkpoint().note == first.note  # the same size: not cosigned twice
    people.register("乙")
    second = city.audit.sign_checkpoint()  # from the size the witness last cosigned
    assert list(cosigned_by(second.note, cosigners)) == [NAMES[0]]
    assert city.audit.checkpoints.witnessed(NAMES[0]) == second.size
    assert city.audit.checkpoints.witnessed(NAMES[1]) == 0


def test_audit_verify_demands_k_cosignatures_of_the_witnesses_given(
    witnessed: tuple[City, list[str], list[int]], env: dict[str, str], tmp_path: Path
) -> None:
    city, keys, _ = witnessed
    CitizenFactory(city).register("甲")
    exported = tmp_path / "checkpoint.txt"
    exported.write_text(city.audit.sign_checkpoint().note)
    env = env | {"MYCITY_WITNESSES": ""}
    witnesses = [arg for key in keys for arg in ("--witness", key)]

    def verify(*args: str) -> Any:
        command = ["audit", "verify", "--against", str(exported), *args]
        return CliRunner().invoke(cli, command, env=env)

    assert verify(*witnesses, "--cosigned", "1").exit_code == 0
    refused = verify(*witnesses, "--cosigned", "2")
    assert refused.exit_code == 1
    assert f"REFUSED: cosigned by 1 of the witnesses given ({NAMES[0]}), 2 asked" in refused.output
    assert verify(witnesses[0], witnesses[1], "--cosigned", "2").exit_code == 2  # too few keys


def test_the_witnesses_setting_is_address_and_key_pairs(tmp_path: Path) -> None:
    env = {"MYCITY_DATA_DIR": str(tmp_path)}
    one, two = (Witness(tmp_path / name, name, []).public_key for name in NAMES)
    given = f"http://127.0.0.1:8010/ {one}; https://w2.example {two}"
    parsed = Settings.from_env(env | {"MYCITY_WITNESSES": given}).audit.witnesses
    assert parsed == (("http://127.0.0.1:8010", one), ("https://w2.example", two))
    for wrong in (f"ftp://w1 {one}", "http://w1", one, "http://w1 w1+00+AA=="):
        with pytest.raises(SettingsError, match="MYCITY_WITNESSES"):
            Settings.from_env(env | {"MYCITY_WITNESSES": wrong})


def test_the_monitor_asks_for_k_cosignatures_of_the_witnesses_it_holds(
    witnessed: tuple[City, list[str], list[int]], tmp_path: Path
) -> None:
    city, keys, _ = witnessed
    CitizenFactory(city).register("甲")
    served = {"https://city.example/audit/checkpoint": city.audit.sign_checkpoint().note}
    cosigners = [parse_cosigner_key(key) for key in keys]

    def watch(k: int) -> Finding:
        report = monitor(
            "https://city.example",
            tmp_path / f"monitor-{k}",
            city.audit.verifier_keys(),
            fetch=served.__getitem__,
            witnesses=cosigners,
            cosigned=k,
        )
        return report.finding

    assert watch(1) is Finding.FIRST
    assert watch(2) is Finding.UNWITNESSED  # the second witness was down
    assert not (tmp_path / "monitor-2" / "checkpoint.txt").exists()  # not kept
