"""city_code: issuing and verifying city codes against raw Ed25519 signing and verifying.

Each code costs one signature to issue and one to verify, so the baselines are the rates of
`Ed25519PrivateKey.sign` and `Ed25519PublicKey.verify` over 33-byte messages (what a code
signs), measured in the same run and process, one after the other (target ratios >= 0.80).
Each code is a real one: all purposes and cards, a fresh nonce and a fresh sealed subject
reference (sealing is the server's, outside `issue_code`, and reported on its own).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks.common import Report, median
from mycity.verifier.city_code import (
    BODY_SIZE,
    Card,
    Colour,
    Purpose,
    code_jwk,
    issue_code,
    load_code_keys,
    seal_subject,
    verify_code,
)

TARGET_RATIO = 0.80
T = TypeVar("T")


def rate(action: Callable[[T], object], items: Sequence[T], rounds: int) -> float:
    """Items per second, the median of `rounds` passes over them."""
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        for item in items:
            action(item)
        rates.append(len(items) / (time.perf_counter() - started))
    return median(rates)


def run(quick: bool) -> Report:
    report = Report("city_code", quick)
    count, rounds = (2_000, 3) if quick else (20_000, 5)
    signer = Ed25519PrivateKey.generate()
    public = signer.public_key()
    keys = load_code_keys({"keys": [code_jwk(public, "city-code-1", 1)]})
    server_key = os.urandom(32)
    refs = [seal_subject(server_key, i.to_bytes(8, "big")) for i in range(count)]
    now = int(time.time())
    purposes, cards = frozenset(Purpose), frozenset(Card)

    def issue(ref: bytes) -> str:
        return issue_code(
            signer, 1, subject_ref=ref, purposes=purposes, colour=Colour.GREEN, cards=cards,
            issued_at=now,
        )  # fmt: skip

    texts = [issue(ref) for ref in refs]
    report.checks["all_valid"] = all(verify_code(t, keys, now=now).ok for t in texts)
    messages = [os.urandom(BODY_SIZE) for _ in range(count)]
    signed = [(signer.sign(m), m) for m in messages]

    raw_sign = rate(signer.sign, messages, rounds)
    issued = rate(issue, refs, rounds)
    raw_verify = rate(lambda pair: public.verify(*pair), signed, rounds)
    verified = rate(lambda text: verify_code(text, keys, now=now), texts, rounds)
    sealed = rate(lambda n: seal_subject(server_key, n), [m[:8] for m in messages], rounds)
    report.add("raw_ed25519_sign", raw_sign, "signatures/s")
    report.add("issue_code", issued, "signatures/s", "raw_ed25519_sign")
    report.add("raw_ed25519_verify", raw_verify, "signatures/s")
    report.add("verify_code", verified, "signatures/s", "raw_ed25519_verify")
    report.add("seal_subject", sealed, "references/s")
    report.sizes = {"codes": count, "rounds": rounds, "qr_text_characters": len(texts[0])}
    issue_ratio = report.ratio("issue_code") or 0.0
    verify_ratio = report.ratio("verify_code") or 0.0
    report.checks["issue_ratio"] = issue_ratio
    report.checks["verify_ratio"] = verify_ratio
    report.checks["target_met"] = min(issue_ratio, verify_ratio) >= TARGET_RATIO
    report.note(
        f"issuance {issued:,.0f}/s vs raw signing {raw_sign:,.0f}/s: {issue_ratio}; "
        f"offline verification {verified:,.0f}/s vs raw verifying {raw_verify:,.0f}/s: "
        f"{verify_ratio} (targets >= {TARGET_RATIO}); sealing {sealed:,.0f} references/s"
    )
    return report
