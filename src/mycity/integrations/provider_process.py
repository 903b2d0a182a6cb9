"""The local provider started beside the demo city (`mycity serve --demo`): its own process
(`mycity provider serve`), told to die with the server that started it, and the demo's
accounts opened in it, as a bank would open them on contract."""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx

from mycity.integrations.provider import Provider

START_S = 20.0
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the kernel sends SIGTERM if the server dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextlib.contextmanager
def local_provider(
    directory: Path,
    port: int,
    notify: str | None,
    *,
    settle_after: float = 0.0,
    retry_scale: float = 1.0,
    quiet: bool = False,
) -> Iterator[Provider]:
    """`mycity provider serve` on the port until the block ends (its options as the command
    takes them); its keys, read from its directory (made there first, as `mycity provider
    key` would)."""
    keys = Provider(directory)
    args = [
        sys.executable, "-m", "mycity", "provider", "serve", "--dir", str(directory),
        "--port", str(port), "--settle-after", str(settle_after),
        "--retry-scale", str(retry_scale), *(["--notify", notify] if notify else []),
    ]  # fmt: skip
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    output = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(args, preexec_fn=preexec, stdout=output, stderr=output)  # noqa: S603
    try:
        _wait_until_serving(f"http://127.0.0.1:{port}", process)
        yield keys
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/webhook-key", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise OSError("the local payment provider did not start")


def open_accounts(
    url: str, api_key: str, payers: Iterable[str], payees: Iterable[str], deposit_fen: int
) -> None:
    """Open the accounts that do not exist yet; each new payer's gets `deposit_fen`."""
    headers = {"authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        for account, kind in [*((p, "payer") for p in payers), *((p, "payee") for p in payees)]:
            if client.get(f"/v1/accounts/{account}").status_code == 200:
                continue
            client.post("/v1/accounts", json={"id": account, "kind": kind}).raise_for_status()
            if kind == "payer":
                client.post(
                    f"/v1/accounts/{account}/deposits",
                    json={"amount_fen": deposit_fen},
                    headers={"idempotency-key": f"demo-{account.replace(':', '-')}"[:64]},
                ).raise_for_status()
