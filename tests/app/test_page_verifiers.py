"""The scanner's verifiers in the page (lib/verify.js, WebCrypto) and mycity.verifier give
the same verdicts on the same texts: the docs' worked examples, every reason at its
boundary, malformed forms, and texts altered a character at a time."""

from __future__ import annotations

import random
import re
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from mycity.verifier import base45
from mycity.verifier.city_code import verify_code
from mycity.verifier.licence import verify_presentation
from tests.app.conftest import Demo
from tests.test_verifier_city_code import DOC as CODE_DOC
from tests.test_verifier_city_code import ISSUED_AT, STRANGER, binary, issue, text_of
from tests.test_verifier_city_code import JWKS as CODE_JWKS
from tests.test_verifier_city_code import KEYS as CODE_KEYS
from tests.test_verifier_licence import DOC as LICENCE_DOC
from tests.test_verifier_licence import JWKS as LICENCE_JWKS
from tests.test_verifier_licence import KEYS as LICENCE_KEYS
from tests.test_verifier_licence import OTHER_KEY, PSB_KEY, WALLET_KEY
from tests.test_verifier_licence_compact import NOW as LICENCE_NOW
from tests.test_verifier_licence_compact import elements, present, signed

ALPHABET = base45.ALPHABET + "a~中"


def mutations(text: str, count: int, seed: int) -> list[str]:
    """The text with one character replaced, at random places, reproducibly."""
    chance = random.Random(seed)
    found = []
    for _ in range(count):
        at = chance.randrange(len(text))
        found.append(text[:at] + chance.choice(ALPHABET) + text[at + 1 :])
    return found


def code_vectors() -> Iterator[tuple[str, float]]:
    [example] = re.findall(r"^MC1:.*$", CODE_DOC, re.M)
    for now in (1767225630, 1767225691, 1767225569, 1767225570, 1767225690):
        yield example, now
    code = issue()
    for now in (ISSUED_AT - 30, ISSUED_AT - 31, ISSUED_AT + 90, ISSUED_AT + 91):
        yield code, now
    yield issue(code_key=0), ISSUED_AT  # withdrawn
    yield issue(code_key=7), ISSUED_AT  # unknown
    yield issue(key=STRANGER), ISSUED_AT  # under index 1, not its key
    data = binary(code)
    for head in (0x13, 0x14, 0x18, 0x20, 0x00):  # colour 3, reserved bits, version 2 and 0
        yield text_of(bytes([head]) + data[1:]), ISSUED_AT
    yield text_of(data[:6] + struct.pack(">H", 0) + data[8:]), ISSUED_AT  # lifetime 0
    yield text_of(data[:8] + bytes([data[8] & 0xF0]) + data[9:]), ISSUED_AT  # no purpose
    yield text_of(data[:-1]), ISSUED_AT
    yield "MC2:" + code[4:], ISSUED_AT
    yield code[:4] + ":::" + code[7:], ISSUED_AT  # a group over 65535
    yield code[:-2] + "::", ISSUED_AT  # a last byte over 255
    yield code.lower(), ISSUED_AT
    for changed in mutations(code, 40, seed=1):
        yield changed, ISSUED_AT


def licence_vectors() -> Iterator[tuple[str, float]]:
    example = "".join(re.search(r"```text\n(LC2:[^`]*)```", LICENCE_DOC).group(1).split())  # type: ignore[union-attr]
    yield example, 1767225700
    yield example, 1767225931
    text = present()
    for now in (LICENCE_NOW, 1767225600 - 30, 1767225600 - 31, 1767225900 + 30, 1767225900 + 31):
        yield text, now
    yield present(kid="nobody"), LICENCE_NOW
    yield present(key=WALLET_KEY, kid="wallet-2026"), LICENCE_NOW  # a presentation key
    yield present(key=PSB_KEY, kid="psb-2026"), LICENCE_NOW  # another department's
    yield present(key=OTHER_KEY), LICENCE_NOW  # bad signature
    yield signed(elements(expires_at=1767225600 + 301)), LICENCE_NOW
    yield signed(elements(expires_at=1767225600 + 300)), LICENCE_NOW
    variants: list[dict[str, Any]] = [
        {"type_name": ""},
        {"type_name": "营业\x00执照"},
        {"type_name": "营业\x85执照"},
        {"type_name": "\ufeff营业执照"},  # a byte-order mark is text, and kept
        {"type_name": "𠀀" * 64},
        {"type_name": "𠀀" * 65},
        {"type_code": "11100000ma0000000X001"},
        {"issuer": "amr"},
        {"fields": {"Name": "x"}},
        {"fields": {"name": "x" * 1024}},
        {"fields": {"name": "x" * 1025}},
        {"fields": {f"f{i}": "" for i in range(64)}},
        {"fields": {f"f{i}": "" for i in range(65)}},
        {"nonce": b"\x01" * 31},
        {"issued_at": 2**53},
        {"expires_at": 1767225600 - 1},
    ]
    for change in variants:
        yield signed(elements(**change)), LICENCE_NOW
    yield signed(elements(typ="mycity-licence/3")), LICENCE_NOW
    yield text + "00", LICENCE_NOW  # bytes after the array
    yield "LC2:" + "0" * 4293, LICENCE_NOW  # one over the longest QR text
    for changed in mutations(text, 40, seed=2):
        yield changed, LICENCE_NOW


def python_code(text: str, now: float) -> dict[str, Any]:
    v = verify_code(text, CODE_KEYS, now=now)
    found: dict[str, Any] = {"ok": v.ok, "reason": v.reason.value}
    if v.kid is not None:
        found |= {
            "kid": v.kid,
            "purposes": sorted(p.value for p in v.purposes),
            "colour": v.colour.value if v.colour else None,
            "cards": sorted(c.value for c in v.cards),
            "issuedAt": v.issued_at,
            "expiresAt": v.expires_at,
            "codeId": v.code_id.hex() if v.code_id else None,
        }
    return found


def python_licence(text: str, now: float, seen: set[bytes]) -> dict[str, Any]:
    def once(nonce: bytes) -> bool:
        was = nonce in seen
        seen.add(nonce)
        return was

    v = verify_presentation(text, LICENCE_KEYS, now=now, seen=once)
    found: dict[str, Any] = {"ok": v.ok, "reason": v.reason.value}
    if v.attested is not None:
        a = v.attested
        found |= {
            "typeCode": a.type_code,
            "typeName": a.type_name,
            "issuer": a.issuer,
            "disclosed": dict(v.disclosed),
            "issuedAt": a.issued_at,
            "expiresAt": a.expires_at,
            "nonce": a.nonce.hex(),
        }
    return found


PAGE_CODES = """async ([vectors, jwks]) => {
  const v = await import("/lib/verify.js");
  const keys = await v.loadCodeKeys(jwks);
  const found = [];
  for (const [text, now] of vectors) {
    const r = await v.verifyCode(text, keys, now);
    found.push(r.kid === undefined ? { ok: r.ok, reason: r.reason } : r);
  }
  return found;
}"""

PAGE_LICENCES = """async ([vectors, jwks]) => {
  const v = await import("/lib/verify.js");
  const keys = await v.loadLicenceKeys(jwks);
  const seen = new Set();
  const once = (nonce) => seen.has(nonce) || (seen.add(nonce), false);
  const found = [];
  for (const [text, now] of vectors) {
    const r = await v.verifyPresentation(text, keys, now, { seen: once });
    if (r.typeCode === undefined) { found.push({ ok: r.ok, reason: r.reason }); continue; }
    const { statusChecked, ...shown } = r;
    found.push(shown);
  }
  return found;
}"""


@pytest.fixture(scope="module")
def page(browser: Browser, demo: Demo) -> Iterator[Page]:
    """A page of the city's origin, where WebCrypto is available and the modules load."""
    context = browser.new_context(base_url=demo.url)
    page = context.new_page()
    page.goto("/scan/")
    yield page
    context.close()


def test_the_page_and_the_package_agree_on_city_codes(page: Page) -> None:
    vectors = list(code_vectors())
    expected = [python_code(text, now) for text, now in vectors]
    found = page.evaluate(PAGE_CODES, [vectors, CODE_JWKS])
    for vector, python, javascript in zip(vectors, expected, found, strict=True):
        assert javascript == python, vector
    reasons = {e["reason"] for e in expected}
    assert reasons == {"valid", "malformed", "unknown_key", "withdrawn_key", "bad_signature"} | {
        "not_yet_valid",
        "expired",
    }


def test_the_page_and_the_package_agree_on_licence_presentations(page: Page) -> None:
    vectors = [*licence_vectors(), (present(), LICENCE_NOW)]  # the last a replay
    seen: set[bytes] = set()
    expected = [python_licence(text, now, seen) for text, now in vectors]
    found = page.evaluate(PAGE_LICENCES, [vectors, LICENCE_JWKS])
    for vector, python, javascript in zip(vectors, expected, found, strict=True):
        assert javascript == python, vector
    reasons = {e["reason"] for e in expected}
    assert {"valid", "malformed", "unknown_key", "wrong_key", "bad_signature"} <= reasons
    assert {"too_long_lived", "not_yet_valid", "expired", "replayed"} <= reasons
