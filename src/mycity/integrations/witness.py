"""A transparency-log witness (c2sp.org/tlog-witness), run as its own process:
`mycity witness serve`. It is what keeps the city honest to outsiders: it cosigns a
checkpoint only if the log proves it extends the last one this witness cosigned, so a
city that shows one witness a rewritten or another log cannot get it cosigned.

`POST /add-checkpoint`: the body is `old <size>`, the consistency proof (one base64 hash a
line, at most 63), a blank line, then the signed checkpoint. Answers, as the protocol has
them: 200 and the cosignature line; 400 a malformed body or an old size above the new;
403 not signed by a key the witness trusts for that log; 404 a log it does not know;
409 (`text/x.tlog.size`, its last cosigned size) an old size that is not the one it last
cosigned, or the same size with another root; 422 a proof that does not hold. The check
and the update of its state are one SQLite transaction, so two requests cannot roll it
back. Its key and state live in its own directory.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from mycity.verifier.checkpoint import Checkpoint
from mycity.verifier.cosignature import cosign, cosigner_key
from mycity.verifier.merkle import verify_consistency
from mycity.verifier.note import Verifier, decode_base64, parse_verifier_key
from mycity.verifier.proofs import signed_checkpoint

KEY_FILE = "witness.key"
STATE_FILE = "witness.sqlite"
MAX_PROOF = 63
MAX_BODY = 64 * 1024
SIZE = "text/x.tlog.size"
_OLD = re.compile(r"old (0|[1-9][0-9]{0,19})")


class Witness:
    """A witness's key, the logs it trusts and the last checkpoint it cosigned of each."""

    def __init__(self, directory: Path, name: str, logs: Sequence[str]) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.name = name
        self.key = _key(directory / KEY_FILE)
        self.logs: dict[str, list[Verifier]] = {}
        for text in logs:
            verifier = parse_verifier_key(text)
            self.logs.setdefault(verifier.name, []).append(verifier)
        self.state = directory / STATE_FILE
        with sqlite3.connect(self.state) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS cosigned "
                "(origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL)"
            )
        db.close()

    @property
    def public_key(self) -> str:
        """What logs and verifiers configure to trust this witness."""
        return cosigner_key(self.name, self.key.public_key().public_bytes_raw())

    def add_checkpoint(self, body: str) -> tuple[int, str]:
        """The protocol's answer to a request body: (status, response text)."""
        request = _parse(body)
        if request is None:
            return 400, "not old <size>, proof lines, a blank line, then a signed checkpoint\n"
        old, proof, note = request
        origin = note.split("\n", 1)[0]
        verifiers = self.logs.get(origin)
        if verifiers is None:
            return 404, f"this witness does not know the log {origin!r}\n"
        checkpoint = signed_checkpoint(note, verifiers)  # keys are named after their log
        if checkpoint is None:
            return 403, "the checkpoint is not signed by a key this witness trusts for it\n"
        if old > checkpoint.size:
            return 400, "the old size is above the checkpoint's\n"
        with sqlite3.connect(self.state, isolation_level=None) as db:
            db.execute("BEGIN IMMEDIATE")  # the check and the update, as one
            answer = self._check_and_keep(db, origin, old, proof, checkpoint)
            db.execute("COMMIT" if answer[0] == 200 else "ROLLBACK")
        db.close()
        if answer[0] != 200:
            return answer
        return 200, cosign(checkpoint.text(), self.name, self.key, int(time.time()))

    def _check_and_keep(
        self,
        db: sqlite3.Connection,
        origin: str,
        old: int,
        proof: list[bytes],
        checkpoint: Checkpoint,
    ) -> tuple[int, str]:
        row = db.execute("SELECT size, root FROM cosigned WHERE origin = ?", (origin,)).fetchone()
        size, root = (int(row[0]), bytes(row[1])) if row else (0, b"")
        if old != size:
            return 409, f"{size}\n"
        if old == 0 and proof:
            return 422, "a proof from the empty tree is empty\n"
        if old == checkpoint.size and old and root != checkpoint.root:
            return 409, f"{size}\n"
        if 0 < old < checkpoint.size and not verify_consistency(
            old, checkpoint.size, proof, root, checkpoint.root
        ):
            return 422, "the consistency proof does not hold\n"
        db.execute(
            "INSERT INTO cosigned (origin, size, root) VALUES (?, ?, ?) ON CONFLICT (origin) "
            "DO UPDATE SET size = excluded.size, root = excluded.root",
            (origin, checkpoint.size, checkpoint.root),
        )
        return 200, ""


def create_witness_app(witness: Witness) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        too_long = PlainTextResponse("too long for a checkpoint and its proof\n", 413)
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY:
            return too_long
        body = b""
        async for chunk in request.stream():  # whatever the header said, no more than this
            body += chunk
            if len(body) > MAX_BODY:
                return too_long
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return PlainTextResponse("not UTF-8\n", 400)
        status, answer = witness.add_checkpoint(text)
        media = SIZE if status == 409 else "text/plain"
        return Response(answer, status_code=status, media_type=media)

    async def key(request: Request) -> Response:
        return PlainTextResponse(f"{witness.public_key}\n")

    return Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/key", key),
        ]
    )


def _parse(body: str) -> tuple[int, list[bytes], str] | None:
    head, separator, note = body.partition("\n\n")
    if not separator:
        return None
    lines = head.split("\n")
    found = _OLD.fullmatch(lines[0])
    if found is None or len(lines) - 1 > MAX_PROOF:
        return None
    proof = [decode_base64(line) for line in lines[1:]]
    if any(hash_ is None or len(hash_) != 32 for hash_ in proof):
        return None
    return int(found.group(1)), [h for h in proof if h is not None], note


def _key(path: Path) -> Ed25519PrivateKey:
    """The witness's own key, made on its first start and kept (readable by it alone)."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_bytes(Ed25519PrivateKey.generate().private_bytes_raw())
    return Ed25519PrivateKey.from_private_bytes(path.read_bytes())
