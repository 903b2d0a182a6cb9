"""The scanner's verifiers of the first licence format and of status lists in the page
(lib/licence_full.js) and mycity.verifier give the same verdicts on the same texts: the
docs' worked example, every reason at its boundary, strict JSON, bounded inflation."""

from __future__ import annotations

import gzip
import json
import random
import zlib
from collections.abc import Iterator
from datetime import date
from typing import Any

from playwright.sync_api import Page

from mycity.verifier import base45
from mycity.verifier.licence import StatusList, read_status_list
from mycity.verifier.licence_codec import b64url, canonical
from tests.app.test_page_verifiers import PAGE_LICENCES, agreed, mutations, python_licence
from tests.test_verifier_licence import JWKS as LICENCE_JWKS
from tests.test_verifier_licence import KEYS as LICENCE_KEYS
from tests.test_verifier_licence import (
    LICENCE_KEY,
    OTHER_KEY,
    PSB_KEY,
    WALLET_KEY,
    credential,
    doc_block,
    pack,
    resign,
    status_list_text,
    tampered,
    unpack,
)
from tests.test_verifier_licence import NOW as FULL_NOW
from tests.test_verifier_licence import present as present_full


def python_status(text: str, now: float) -> dict[str, Any]:
    read = read_status_list(text, LICENCE_KEYS, now=now)
    if not isinstance(read, StatusList):
        return {"reason": read.value}
    return {
        "reason": "read",
        "issuer": read.issuer,
        "issuedAt": read.issued_at,
        "validUntil": read.valid_until,
        "size": read.size,
        "revoked": read.revoked.hex(),
        "suspended": read.suspended.hex(),
    }


def full_vectors() -> Iterator[tuple[str, float, str | None]]:
    """First-format presentations, each with the AMR status list its verifier reads (or none)."""
    amr = doc_block('{"issued_at"')
    example = doc_block("LC1:")
    yield example, 1767225700, amr
    yield example, 1767225931, amr
    text = present_full()
    yield text, FULL_NOW, None  # status not checked
    yield text, FULL_NOW, amr
    for now in (1767225600 - 30, 1767225600 - 31, 1767225900 + 30, 1767225900 + 31):
        yield text, now, amr
    for index in (3, 5, 131071, 131072):  # revoked, suspended, the last bit, none
        yield present_full(credential(status_index=index)), FULL_NOW, amr
    yield text, FULL_NOW, status_list_text(valid_until=1767225600 + 50)  # stale when read
    yield text, FULL_NOW, status_list_text(issuer="PSB", key=PSB_KEY, kid="psb-2026")
    yield text, FULL_NOW, status_list_text(key=OTHER_KEY)  # refused: unknown
    for valid_from, valid_until in (
        (date(2026, 1, 2), None),
        (date(2025, 6, 1), date(2025, 12, 31)),
        (date(2025, 6, 1), date(2026, 1, 1)),
        (date(2026, 1, 1), date(2026, 1, 1)),
    ):
        licence = credential(valid_from=valid_from, valid_until=valid_until)
        yield present_full(licence), FULL_NOW, amr
    yield present_full(key=LICENCE_KEY, kid="amr-2026"), FULL_NOW, amr  # not a wallet key
    yield present_full(kid="nobody"), FULL_NOW, amr
    yield present_full(key=OTHER_KEY), FULL_NOW, amr
    yield present_full(credential(key=PSB_KEY, kid="psb-2026")), FULL_NOW, amr
    yield present_full(credential(key=OTHER_KEY)), FULL_NOW, amr
    yield tampered(lambda d: d.update(expires_at=1767225600 + 301)), FULL_NOW, amr
    yield tampered(lambda d: d.update(expires_at=1767225600 + 300)), FULL_NOW, amr
    yield present_full(shown=()), FULL_NOW, amr
    yield tampered(lambda d: d["disclosures"]["name"].update(value="别的公司")), FULL_NOW, amr
    yield tampered(lambda d: d.update(extra=1)), FULL_NOW, amr
    yield tampered(lambda d: d["credential"].update(valid_from="2026-02-30")), FULL_NOW, amr
    yield (
        tampered(
            lambda d: d["credential"].update(licence_id=d["credential"]["licence_id"][:-1] + "0")
        ),
        FULL_NOW,
        amr,
    )
    yield tampered(lambda d: d.update(nonce=b64url(b"\x44" * 15))), FULL_NOW, amr
    body = canonical(unpack(text))
    for changed in (
        zlib.compress(body) + b"x",  # something after the stream
        zlib.compress(body) * 2,
        zlib.compress(b"\xef\xbb\xbf" + body),  # a byte-order mark
        zlib.compress(body.replace(b'"kid":"wallet-2026"', b'"kid":"wallet-2026","kid":"x"')),
        zlib.compress(body.replace(b'"issued_at":1767225600', b'"issued_at":1767225600.0')),
        zlib.compress(body.replace(b'"type_name":"', b'"type_name":"\\ud800')),
        zlib.compress(body.replace(b'"type_name":"', b'"type_name":"\t')),
        zlib.compress(body[:-1] + b" " * 65_536 + b"}"),  # inflates past 65,536 bytes
        zlib.compress(body[:-1] + b" " * (65_535 - len(body)) + b"}"),  # exactly 65,536
        zlib.compress(body)[:-2],
    ):
        yield "LC1:" + base45.encode(changed), FULL_NOW, amr
    yield pack(resign(unpack(text), WALLET_KEY)), FULL_NOW, amr
    for changed in mutations(text, 30, seed=3):
        yield changed, FULL_NOW, amr
    yield text, FULL_NOW, amr  # now a replay


def status_vectors() -> Iterator[tuple[str, float]]:
    amr = doc_block('{"issued_at"')
    yield amr, 1767225700
    yield amr, 1767312000
    yield amr, 1767312000.5
    yield amr, 1767225000 - 30
    yield amr, 1767225000 - 31
    yield status_list_text(size=131_080, revoked=[131_079]), FULL_NOW
    chance = random.Random(4)  # the largest list, hardly compressible: over 150 KB of text
    many = chance.sample(range(2**24), 100_000)
    yield status_list_text(size=2**24, revoked=many), FULL_NOW
    yield status_list_text(key=PSB_KEY, kid="psb-2026"), FULL_NOW  # AMR's list, PSB's key
    yield status_list_text(kid="wallet-2026", key=WALLET_KEY), FULL_NOW
    yield status_list_text(key=OTHER_KEY), FULL_NOW
    yield status_list_text(kid="nobody"), FULL_NOW
    yield amr.replace('"size":131072', '"size":131073'), FULL_NOW
    yield amr + " ", FULL_NOW
    yield amr.replace('"kid":"amr-2026"', '"kid":"amr-2026","kid":"amr-2026"'), FULL_NOW
    document = json_of(amr)
    for revocation in (
        gzip.compress(bytes(16_384), mtime=0) * 2,
        gzip.compress(bytes(16_385), mtime=0),
        gzip.compress(bytes(16_383), mtime=0),
        zlib.compress(bytes(16_384)),
    ):
        changed = {**document, "revocation": "u" + b64url(revocation)}
        yield canonical(resign(changed, LICENCE_KEY)).decode(), FULL_NOW
    yield (
        canonical(
            resign({**document, "revocation": "z" + document["revocation"][1:]}, LICENCE_KEY)
        ).decode(),
        FULL_NOW,
    )


def json_of(text: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(text)
    return found


PAGE_STATUS = """async ([vectors, jwks]) => {
  const v = await import("/lib/verify.js");
  const c = await import("/lib/codec.js");
  const keys = await v.loadLicenceKeys(jwks);
  const found = [];
  for (const [text, now] of vectors) {
    const r = await v.readStatusList(text, keys, now);
    found.push(typeof r === "string" ? { reason: r } : { reason: "read", issuer: r.issuer,
      issuedAt: r.issuedAt, validUntil: r.validUntil, size: r.size, revoked: c.hex(r.revoked),
      suspended: c.hex(r.suspended) });
  }
  return found;
}"""


def test_the_page_and_the_package_agree_on_full_presentations(origin: Page) -> None:
    vectors = list(full_vectors())
    seen: set[bytes] = set()
    expected = [python_licence(text, now, seen, status) for text, now, status in vectors]
    found = origin.evaluate(PAGE_LICENCES, [vectors, LICENCE_JWKS])
    reasons = agreed(vectors, expected, found)
    assert reasons == {
        "valid", "malformed", "unknown_key", "wrong_key", "bad_signature", "field_mismatch",
        "too_long_lived", "not_yet_valid", "expired", "licence_not_yet_valid",
        "licence_expired", "status_unknown", "status_stale", "revoked", "suspended", "replayed",
    }  # fmt: skip


def test_the_page_and_the_package_agree_on_status_lists(origin: Page) -> None:
    vectors = list(status_vectors())
    expected = [python_status(text, now) for text, now in vectors]
    found = origin.evaluate(PAGE_STATUS, [vectors, LICENCE_JWKS])
    reasons = agreed(vectors, expected, found)
    assert reasons == {
        "read", "malformed", "unknown_key", "wrong_key", "bad_signature", "not_yet_valid",
        "status_stale",
    }  # fmt: skip
