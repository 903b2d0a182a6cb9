"""Document uploads as a user and an attacker meet them: streamed, refused at the byte that
passes the limit with the documented JSON, a daily quota per person, bounded memory."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from mycity.bootstrap import City, build
from mycity.domain.errors import ErrorCode, Throttled, UserError
from mycity.settings import ReadModelSettings, UploadSettings
from mycity.usecases.uploads import MAX_BYTES
from tests.conftest import free_port, serving
from tests.helpers import OFFICER, CitizenFactory, join_all

PDF = b"%PDF-1.7 "
LIMITS = UploadSettings(
    documents_per_day=3,
    bytes_per_day=3000,
    unverified_documents_per_day=2,
    unverified_bytes_per_day=1000,
)


def document(size: int, tag: bytes = b"") -> bytes:
    """A PDF of exactly `size` bytes (different for each tag)."""
    head = PDF + tag
    return head + b"x" * (size - len(head))


def streamed(size: int, piece: int = 64 * 1024) -> Iterator[bytes]:
    """A PDF of `size` bytes, sent a piece at a time and never held whole."""
    yield PDF
    left = size - len(PDF)
    while left > 0:
        yield b"x" * min(piece, left)
        left -= piece


def post(
    server: str, token: str | None, body: bytes | Iterator[bytes], **headers: str
) -> httpx.Response:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{server}/uploads", content=body, headers=headers, timeout=60)


def left_behind(city: City) -> list[Path]:
    return list((city.settings.data_dir / "uploads").rglob(".incoming-*"))


@pytest.mark.parametrize("chunked", [False, True], ids=["declared length", "chunked"])
def test_the_largest_document_is_taken_and_one_byte_more_refused(
    server: str, city: City, people: CitizenFactory, chunked: bool
) -> None:
    token = city.tokens.access_token(people.register("满", verified=True).principal)
    for size, status in ((MAX_BYTES, 201), (MAX_BYTES + 1, 413)):
        body = streamed(size) if chunked else document(size)
        answer = post(server, token, body)
        assert answer.status_code == status, answer.text
        if status == 201:
            assert answer.json()["size"] == MAX_BYTES
        else:
            assert answer.json() == {
                "code": "UPLOAD_TOO_LARGE",
                "field": "file",
                "message": f"Documents are at most {MAX_BYTES} bytes",
            }
    assert left_behind(city) == []


def test_a_600_kb_pdf_is_taken_and_anyone_else_is_refused_before_the_body(
    server: str, city: City, people: CitizenFactory
) -> None:
    person = people.register("文件")
    token = city.tokens.access_token(person.principal)
    answer = post(server, token, document(600 * 1024))
    assert answer.status_code == 201, answer.text
    assert answer.json()["mediaType"] == "application/pdf"
    assert post(server, None, document(100)).json()["code"] == "UNAUTHENTICATED"
    assert post(server, "not-a-token", document(100)).status_code == 401
    staff = city.tokens.access_token(OFFICER)
    assert post(server, staff, document(100)).status_code == 403
    gif = post(server, token, b"GIF89a" + b"x" * 100)
    assert (gif.status_code, gif.json()["code"]) == (400, "UPLOAD_TYPE_NOT_ALLOWED")
    assert post(server, token, b"").json()["code"] == "UPLOAD_TYPE_NOT_ALLOWED"
    assert left_behind(city) == []


@pytest.fixture
def limited(city: City) -> Iterator[City]:
    """The city with a small daily quota, so its boundaries are cheap to reach."""
    small = build(replace(city.settings, uploads=LIMITS))
    yield small
    small.close()


@pytest.mark.parametrize(
    ("verified", "documents", "size"),
    [(False, 2, 1000), (True, 3, 3000)],
    ids=["unverified", "verified"],
)
def test_a_day_holds_so_many_documents_and_bytes(
    limited: City, verified: bool, documents: int, size: int
) -> None:
    people = CitizenFactory(limited)
    person = people.register("额度", verified=verified)
    for i in range(documents - 1):
        limited.uploads.put(person.principal, document(100, b"%d" % i))
    with pytest.raises(Throttled) as caught:  # the last document, one byte too many
        limited.uploads.put(person.principal, document(size - (documents - 1) * 100 + 1))
    assert caught.value.code is ErrorCode.UPLOAD_QUOTA_EXCEEDED
    assert 0 < caught.value.retry_after <= 24 * 3600
    last = limited.uploads.put(person.principal, document(size - (documents - 1) * 100))
    assert last.size == size - (documents - 1) * 100  # exactly what was left
    with pytest.raises(Throttled):  # no document left, however small
        limited.uploads.put(person.principal, document(10, b"more"))
    other = people.register("别人", verified=verified)
    limited.uploads.put(other.principal, document(100))  # a quota is each person's own


def test_two_uploads_racing_for_the_last_of_a_quota_keep_one(limited: City) -> None:
    person = CitizenFactory(limited).register("抢")
    limited.uploads.put(person.principal, document(100, b"first"))
    racing = [limited.uploads.begin(person.principal) for _ in range(2)]  # both see one left
    for i, receiving in enumerate(racing):
        receiving.write(document(100, b"race %d" % i))
    kept = racing[0].finish()
    with pytest.raises(UserError) as caught:
        racing[1].finish()
    racing[1].discard()
    assert caught.value.code is ErrorCode.UPLOAD_QUOTA_EXCEEDED
    folder = limited.settings.data_dir / "uploads" / str(person.id)
    lost = hashlib.sha256(document(100, b"race 1")).hexdigest()
    stored = {p.name for p in folder.iterdir()}
    assert kept.digest in stored and lost not in stored and len(stored) == 2


def test_the_quota_answers_429_with_when_to_try_again(city: City) -> None:
    settings = replace(city.settings, uploads=LIMITS, read_models=ReadModelSettings(inline=True))
    with serving(settings) as served:
        person = CitizenFactory(served.app.state.city).register("满额")
        token = city.tokens.access_token(person.principal)
        declared = post(served.url, token, streamed(1001), **{"content-length": "1001"})
        assert declared.status_code == 429  # beyond the day's bytes: refused unread
        assert declared.json()["code"] == "UPLOAD_QUOTA_EXCEEDED"
        assert declared.headers["retry-after"] == str(declared.json()["retryAfterSeconds"])
        passing = post(served.url, token, streamed(1001))  # chunked: refused at byte 1001
        assert passing.status_code == 429
        assert post(served.url, token, document(1000)).status_code == 201


def vm(pid: int) -> dict[str, int]:
    """The process's resident memory now and at its peak (VmRSS, VmHWM), in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields


def test_eight_maximal_uploads_at_once_grow_the_server_by_less_than_their_limit(
    city: City, people: CitizenFactory, tmp_path: Path
) -> None:
    if not city.settings.database_url.endswith(".sqlite"):
        pytest.skip("the server's memory is the same on either store")
    uploaders = [people.register(f"传{i}", verified=True) for i in range(8)]
    tokens = [city.tokens.access_token(p.principal) for p in uploaders]
    port = free_port()
    env = os.environ | {
        "MYCITY_DATA_DIR": str(city.settings.data_dir),
        "MYCITY_DATABASE_URL": city.settings.database_url,
        "MYCITY_KEYS_DIR": str(city.settings.keys_dir),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "mycity", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                threading.Event().wait(0.1)
        assert post(url, tokens[0], document(1000, b"warm")).status_code == 201
        before = vm(server.pid)["VmRSS"]
        answers: list[int] = []

        def upload(token: str) -> None:
            answers.append(post(url, token, streamed(MAX_BYTES)).status_code)

        threads = [threading.Thread(target=upload, args=(t,)) for t in tokens]
        for thread in threads:
            thread.start()
        assert join_all(threads, timeout=120)
        assert answers == [201] * 8
        growth = vm(server.pid)["VmHWM"] - before
        assert growth < 8 * MAX_BYTES, f"the server grew by {growth / 2**20:.1f} MiB"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
