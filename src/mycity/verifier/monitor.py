"""Watching a city's log from outside: what `mycity audit monitor URL` runs, on any machine.

Each run fetches the latest signed checkpoint (`GET /audit/checkpoint`), checks its
signature with the keys the monitor holds (given, or fetched from `GET /audit/key` on its
first run and kept: trust on first use), with K of the witnesses' cosignatures if asked,
and compares it with the last checkpoint it
accepted, which it keeps in its own directory: a smaller tree is a rollback, another root
for the same size or a larger tree the server cannot prove consistent with the kept one
(`GET /audit/consistency?from=M&to=N`) is a split view (the log was rewritten, or this
monitor is shown another log than others). Only a checkpoint that passes is kept. The city
cannot hide a rewrite by deleting its own checkpoints: the monitor kept its own.

Standard library and `cryptography` only, like the rest of `mycity.verifier`.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from mycity.verifier.checkpoint import Checkpoint
from mycity.verifier.cosignature import Cosigner, cosigned_by
from mycity.verifier.merkle import verify_consistency
from mycity.verifier.note import Verifier, parse_verifier_key
from mycity.verifier.proofs import signed_checkpoint

KEYS_FILE = "keys.txt"  # the checkpoint keys held, one a line
KEPT_FILE = "checkpoint.txt"  # the last checkpoint accepted, the note's exact text
TIMEOUT_S = 10.0
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})  # where plain http is this machine

Fetch = Callable[[str], str]


class Finding(StrEnum):
    FIRST = "first"  # nothing kept before: this checkpoint is kept
    SAME = "same"  # the tree kept, unchanged
    GREW = "grew"  # a larger tree, proven to extend the kept one
    BAD_SIGNATURE = "bad_signature"  # not signed by a key held, for its log
    UNWITNESSED = "unwitnessed"  # fewer witnesses' cosignatures than asked
    ROLLBACK = "rollback"  # a smaller tree than the one kept
    SPLIT_VIEW = "split_view"  # another root for the kept size, or an unprovable extension


ALERTS = frozenset(
    {Finding.BAD_SIGNATURE, Finding.UNWITNESSED, Finding.ROLLBACK, Finding.SPLIT_VIEW}
)


@dataclass(frozen=True)
class Report:
    finding: Finding
    size: int  # the served checkpoint's
    kept_size: int | None  # the one kept before this run
    detail: str

    @property
    def alert(self) -> bool:
        return self.finding in ALERTS


class MonitorError(Exception):
    """The server could not be asked, or answered something that is not what it serves."""


def monitor(
    base_url: str,
    directory: Path,
    keys: Sequence[str] = (),
    fetch: Fetch | None = None,
    witnesses: Sequence[Cosigner] = (),
    cosigned: int = 0,
) -> Report:
    """One run: fetch, check, compare, keep (see the module's text); with `cosigned`, the
    checkpoint must also carry that many of `witnesses`' cosignatures."""
    get = fetch or _fetch
    base = base_url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise MonitorError(f"{base_url} is not a city's address (http:// or https://)")
    directory.mkdir(parents=True, exist_ok=True)
    verifiers = _verifiers(keys, directory, base, get)
    note = get(f"{base}/audit/checkpoint")
    served = signed_checkpoint(note, verifiers)
    if served is None:
        return Report(Finding.BAD_SIGNATURE, 0, None, "the checkpoint is not signed by a key held")
    if cosigned and len(found := cosigned_by(note, witnesses)) < cosigned:
        detail = f"cosigned by {len(found)} of the witnesses held, {cosigned} asked"
        return Report(Finding.UNWITNESSED, served.size, None, detail)
    kept_file = directory / KEPT_FILE
    if not kept_file.exists():
        _write(kept_file, note)
        return Report(Finding.FIRST, served.size, None, f"kept the tree of {served.size}")
    kept = signed_checkpoint(kept_file.read_text(encoding="utf-8"), verifiers)
    if kept is None:
        raise MonitorError(f"{kept_file} is not a checkpoint signed by a key held")
    finding, detail = _compare(kept, served, base, get)
    if finding is Finding.GREW:
        _write(kept_file, note)
    return Report(finding, served.size, kept.size, detail)


def _compare(kept: Checkpoint, served: Checkpoint, base: str, get: Fetch) -> tuple[Finding, str]:
    if served.size < kept.size:
        return Finding.ROLLBACK, f"the tree of {served.size} is smaller than the {kept.size} kept"
    if served.size == kept.size:
        if served.root == kept.root:
            return Finding.SAME, f"the tree of {served.size} is the one kept"
        return Finding.SPLIT_VIEW, f"another root for the tree of {served.size} kept"
    answer = get(f"{base}/audit/consistency?from={kept.size}&to={served.size}")
    try:
        proof = [base64.b64decode(h, validate=True) for h in json.loads(answer)["proof"]]
    except (ValueError, KeyError, TypeError):
        raise MonitorError("the consistency proof served is not one") from None
    if verify_consistency(kept.size, served.size, proof, kept.root, served.root):
        return Finding.GREW, f"the tree of {served.size} extends the {kept.size} kept"
    return Finding.SPLIT_VIEW, (
        f"the tree of {served.size} is not proven to extend the {kept.size} kept: "
        "the log was rewritten, or this monitor is shown another log"
    )


def _verifiers(keys: Sequence[str], directory: Path, base: str, get: Fetch) -> list[Verifier]:
    held = directory / KEYS_FILE
    lines = list(keys)
    if not lines and held.exists():
        lines = held.read_text(encoding="utf-8").split()
    if not lines:  # first use: the keys the server serves, kept from now on
        if not base.startswith("https://") and urlsplit(base).hostname not in LOOPBACK:
            raise MonitorError(
                f"the key fetched over plain http from {base} could be anyone's: give it "
                "with --key, or watch the https:// address"
            )
        lines = get(f"{base}/audit/key").split()
        _write(held, "".join(f"{line}\n" for line in lines))
    try:
        return [parse_verifier_key(line) for line in lines]
    except ValueError as e:
        raise MonitorError(f"not a checkpoint key: {e}") from None


def _write(path: Path, text: str) -> None:
    """Replace the file whole, or not at all (a crash leaves the last one kept)."""
    part = path.with_suffix(".part")
    part.write_text(text, encoding="utf-8")
    os.replace(part, path)


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:  # noqa: S310
            return str(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        raise MonitorError(f"{url} answered {e.code}") from None
    except (urllib.error.URLError, TimeoutError, UnicodeDecodeError) as e:
        raise MonitorError(f"cannot fetch {url}: {getattr(e, 'reason', e)}") from None
