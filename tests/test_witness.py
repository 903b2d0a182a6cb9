"""A witness (c2sp.org/tlog-witness) over the city's real checkpoints and proofs: it
cosigns only what extends what it last cosigned, answers each refusal with the protocol's
status, and its cosignatures verify as c2sp.org/tlog-cosignature has them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mycity.bootstrap import City
from mycity.integrations.witness import MAX_BODY, Witness, create_witness_app
from mycity.integrations.witnesses import add_checkpoint_body as body
from mycity.verifier.checkpoint import Checkpoint, time_line
from mycity.verifier.cosignature import cosigned_by, parse_cosigner_key
from mycity.verifier.note import sign_note
from tests.conftest import free_port
from tests.helpers import CitizenFactory

NAME = "witness.example/w1"


def signed(city: City, people: CitizenFactory, *names: str) -> tuple[int, bytes, str]:
    """The log grown by these citizens and signed: size, root, note."""
    for name in names:
        people.register(name)
    kept = city.audit.sign_checkpoint()
    return kept.size, kept.root, kept.note


@pytest.fixture
def witness(city: City, tmp_path: Path) -> Witness:
    return Witness(tmp_path / "w1", NAME, city.audit.verifier_keys())


def test_the_first_checkpoint_is_cosigned_then_only_what_extends_it(
    city: City, people: CitizenFactory, witness: Witness
) -> None:
    first, _, note = signed(city, people, "甲")
    status, line = witness.add_checkpoint(body(0, [], note))
    assert status == 200 and line.startswith(f"— {NAME} ")
    cosigner = parse_cosigner_key(witness.public_key)
    [(name, at)] = cosigned_by(note + line, [cosigner]).items()
    assert name == NAME and abs(at - time.time()) < 60
    second, _, newer = signed(city, people, "乙")
    proof = city.audit.tree.consistency_proof(first, second)
    assert witness.add_checkpoint(body(first, proof, newer))[0] == 200
    assert witness.add_checkpoint(body(second, [], newer))[0] == 200  # the same tree again


def test_an_old_size_that_is_not_the_last_cosigned_is_409_with_that_size(
    city: City, people: CitizenFactory, witness: Witness
) -> None:
    first, _, note = signed(city, people, "甲")
    witness.add_checkpoint(body(0, [], note))
    second, _, newer = signed(city, people, "乙")
    assert witness.add_checkpoint(body(0, [], newer)) == (409, f"{first}\n")
    assert witness.add_checkpoint(body(second, [], newer)) == (409, f"{first}\n")


def test_a_missing_or_wrong_proof_is_422_and_cosigns_nothing(
    city: City, people: CitizenFactory, witness: Witness
) -> None:
    first, _, note = signed(city, people, "甲")
    witness.add_checkpoint(body(0, [], note))
    second, _, newer = signed(city, people, "乙", "丙")
    proof = city.audit.tree.consistency_proof(first, second)
    flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    for wrong in ([], flipped, proof[:-1]):
        assert witness.add_checkpoint(body(first, wrong, newer))[0] == 422
    assert witness.add_checkpoint(body(first, proof, newer))[0] == 200  # still at `first`


def test_a_rollback_and_another_root_of_the_same_size_are_refused(
    city: City, people: CitizenFactory, witness: Witness
) -> None:
    first, _, note = signed(city, people, "甲")
    second, root, newer = signed(city, people, "乙")
    witness.add_checkpoint(body(0, [], newer))
    assert witness.add_checkpoint(body(second, [], note))[0] == 400  # old above the new size
    assert witness.add_checkpoint(body(first, [], note)) == (409, f"{second}\n")
    origin, key = city.settings.audit.origin, city.audit.ring.private_key()
    other = bytes(b ^ 0xFF for b in root)
    moment = (time_line(datetime.now(UTC)),)
    split = sign_note(Checkpoint(origin, second, other, moment).text(), origin, key)
    assert witness.add_checkpoint(body(second, [], split)) == (409, f"{second}\n")


def test_unknown_logs_foreign_keys_and_malformed_bodies(
    city: City, people: CitizenFactory, witness: Witness
) -> None:
    _, _, note = signed(city, people, "甲")
    origin = city.settings.audit.origin
    stranger = Ed25519PrivateKey.generate()
    forged = sign_note(note.split("\n\n")[0] + "\n", origin, stranger)
    assert witness.add_checkpoint(body(0, [], forged))[0] == 403
    elsewhere = "other.example/log"
    other_log = sign_note(f"{elsewhere}\n1\n{'A' * 43}=\n", elsewhere, stranger)
    assert witness.add_checkpoint(body(0, [], other_log))[0] == 404
    for bad in ("", "old 01\n\n" + note, "old x\n\n" + note, "old 0\nnot-base64\n\n" + note):
        assert witness.add_checkpoint(bad)[0] == 400
    too_long = body(0, [bytes(32)] * 64, note)
    assert witness.add_checkpoint(too_long)[0] == 400  # at most 63 proof lines
    longest = body(0, [bytes(32)] * 63, note)  # read whole, then refused for what it says
    assert witness.add_checkpoint(longest) == (422, "a proof from the empty tree is empty\n")
    biggest = "9" * 20  # an old size of 20 digits is read (and is above the checkpoint's)
    assert witness.add_checkpoint(body(0, [], note).replace("old 0", f"old {biggest}", 1)) == (
        400,
        "the old size is above the checkpoint's\n",
    )
    assert witness.add_checkpoint(body(0, [], note).replace("old 0", f"old 1{biggest}", 1))[
        1
    ].startswith("not old <size>")


def test_a_body_over_64_kib_is_refused_before_it_is_read(witness: Witness) -> None:
    async def posted(size: int) -> int:
        transport = httpx.ASGITransport(app=create_witness_app(witness))
        async with httpx.AsyncClient(transport=transport, base_url="http://witness") as client:
            return (await client.post("/add-checkpoint", content=b"x" * size)).status_code

    assert asyncio.run(posted(MAX_BODY)) == 400  # read, and not a checkpoint
    assert asyncio.run(posted(MAX_BODY + 1)) == 413


def test_k_of_n_cosignatures_verify_with_k_not_with_one_more(
    city: City, people: CitizenFactory, tmp_path: Path
) -> None:
    keys = city.audit.verifier_keys()
    one = Witness(tmp_path / "w1", "witness.example/w1", keys)
    two = Witness(tmp_path / "w2", "witness.example/w2", keys)
    _, _, note = signed(city, people, "甲")
    lines = [w.add_checkpoint(body(0, [], note))[1] for w in (one, two)]
    cosigners = [parse_cosigner_key(w.public_key) for w in (one, two)]
    assert len(cosigned_by(note + lines[0], cosigners)) == 1
    assert len(cosigned_by(note + "".join(lines), cosigners)) == 2
    tampered = note.replace("\n\n", "\nx\n\n", 1) + "".join(lines)  # the text they signed changed
    assert cosigned_by(tampered, cosigners) == {}


def test_mycity_witness_serve_is_a_process_speaking_the_protocol(
    city: City, people: CitizenFactory, tmp_path: Path
) -> None:
    _, _, note = signed(city, people, "甲")
    port = free_port()
    mycity = str(Path(sys.executable).with_name("mycity"))
    command = [mycity, "witness", "serve", "--dir", str(tmp_path)]
    command += ["--name", NAME, "--port", str(port)]
    for key in city.audit.verifier_keys():
        command += ["--log", key]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                key = httpx.get(f"{url}/key").text.strip()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "no witness"
                time.sleep(0.1)
        answer = httpx.post(f"{url}/add-checkpoint", content=body(0, [], note).encode())
        assert answer.status_code == 200
        assert NAME in cosigned_by(note + answer.text, [parse_cosigner_key(key)])
        conflict = httpx.post(f"{url}/add-checkpoint", content=body(5, [], note).encode())
        assert conflict.status_code in (400, 409)
        if conflict.status_code == 409:
            assert conflict.headers["content-type"].startswith("text/x.tlog.size")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
