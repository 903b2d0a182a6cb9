"""licences: offline presentation verification against raw Ed25519 verification.

A partner's verifier checks two signatures per presentation (the wallet's over the whole
presentation, the department's over the credential), so the figure is signatures verified
per second: `verify_presentation` calls/s x 2, against the baseline `raw_ed25519`, the
rate of `Ed25519PublicKey.verify` over messages of the same sizes, measured in the same
run, in the same process, one after the other (target ratio >= 0.80). Each presentation is
a real one: an 8-field business licence, two fields disclosed, each with its own nonce.
Also reported: the stages of one verification (decode, signatures, digests), to show where
time goes.
"""

from __future__ import annotations

import os
import time
from datetime import date

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks.common import Report, median
from mycity.verifier.licence import (
    load_keys,
    make_presentation,
    public_jwk,
    read_presentation,
    verify_presentation,
)
from mycity.verifier.licence_credential import make_disclosures, sign_credential
from mycity.verifier.licence_id import licence_identifier

TARGET_RATIO = 0.80
ISSUER_CODE = "11430700MB19364P34"
FIELDS = {
    "enterprise_name": "常德市武陵区新开餐饮有限公司",
    "credit_code": "91430702MA4L0C8P3X",
    "enterprise_type": "有限责任公司（自然人投资或控股）",
    "legal_representative": "王建国",
    "registered_capital": "壹佰万元整",
    "business_scope": "餐饮服务；食品销售（仅销售预包装食品）；外卖递送服务",
    "address": "湖南省常德市武陵区人民路1号",
    "established_on": "2026-12-01",
}


def presentations(count: int) -> tuple[list[str], dict[str, object]]:
    department, wallet = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    disclosures = make_disclosures(FIELDS)
    credential = sign_credential(
        department,
        "amr-1",
        licence_id=licence_identifier(ISSUER_CODE + "001", ISSUER_CODE, 1, 1),
        type_name="营业执照",
        issuer="AMR",
        holder="7f1d2c1e-6f0b-5d1e-9a57-0c3b1d1a2b3c",
        valid_from=date(2026, 12, 1),
        valid_until=None,
        status_index=0,
        digests={name: d.digest() for name, d in disclosures.items()},
    )
    now = int(time.time())
    shown = [disclosures["enterprise_name"], disclosures["credit_code"]]
    texts = [
        make_presentation(
            credential,
            shown,
            key=wallet,
            kid="wallet-1",
            issued_at=now,
            expires_at=now + 300,
            nonce=os.urandom(16),
        )
        for _ in range(count)
    ]
    trust = {
        "keys": [
            public_jwk(department.public_key(), "amr-1", use="licence", issuer="AMR"),
            public_jwk(wallet.public_key(), "wallet-1", use="presentation"),
        ]
    }
    return texts, trust


def rate(action: object, items: list[object], rounds: int) -> float:
    """Items per second, the median of `rounds` passes over them."""
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        for item in items:
            action(item)  # type: ignore[operator]
        rates.append(len(items) / (time.perf_counter() - started))
    return median(rates)


def run(quick: bool) -> Report:
    report = Report("licences", quick)
    count, rounds = (500, 3) if quick else (5_000, 5)
    texts, trust = presentations(count)
    keys = load_keys(trust)
    now = time.time()
    verdicts = [verify_presentation(t, keys, now=now) for t in texts]
    report.checks["all_valid"] = all(v.ok for v in verdicts)

    signer = Ed25519PrivateKey.generate()
    public = signer.public_key()
    # Messages as long as what the two signatures cover (the presentation, the credential).
    sample = read_presentation(texts[0])
    assert sample is not None
    messages = [os.urandom(n) for n in (1_100, 700)] * (count // 2)
    signed = [(signer.sign(m), m) for m in messages]

    raw = rate(lambda pair: public.verify(*pair), signed, rounds)  # type: ignore[misc]
    offline = rate(lambda text: verify_presentation(text, keys, now=now), texts, rounds)  # type: ignore[arg-type]
    parse = rate(read_presentation, texts, rounds)  # type: ignore[arg-type]
    report.add("raw_ed25519", raw, "signatures/s")
    report.add("offline_verify", offline * 2, "signatures/s", "raw_ed25519")
    report.add("presentations_per_second", offline, "presentations/s")
    report.add("parse_only", parse, "presentations/s", "presentations_per_second")
    report.sizes = {
        "presentations": count,
        "rounds": rounds,
        "qr_text_characters": len(texts[0]),
        "fields": len(FIELDS),
        "disclosed": 2,
    }
    ratio = report.ratio("offline_verify") or 0.0
    report.checks["offline_ratio"] = ratio
    report.checks["target_met"] = ratio >= TARGET_RATIO
    report.note(
        f"offline verification: {offline:,.0f} presentations/s = {offline * 2:,.0f} signatures/s "
        f"vs raw Ed25519 {raw:,.0f}/s: {ratio} (target >= {TARGET_RATIO}): "
        f"{'MET' if ratio >= TARGET_RATIO else 'NOT MET'}; parsing alone {parse:,.0f}/s"
    )
    return report
