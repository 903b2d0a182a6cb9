"""The scanner's verifiers in the page (lib/verify.js, WebCrypto) and mycity.verifier give
the same verdicts on the same texts: the docs' worked examples, every reason at its
boundary, malformed forms, and texts altered a character at a time."""

from __future__ import annotations

import json
import random
import re
import struct
from collections.abc import Iterator
from typing import Any

from playwright.sync_api import Page

from mycity.verifier import base45
from mycity.verifier.city_code import load_code_keys, verify_code
from mycity.verifier.licence import load_keys, read_status_list, verify_presentation
from tests.test_verifier_city_code import DOC as CODE_DOC
from tests.test_verifier_city_code import ISSUED_AT, STRANGER, binary, issue, text_of
from tests.test_verifier_city_code import JWKS as CODE_JWKS
from tests.test_verifier_city_code import KEYS as CODE_KEYS
from tests.test_verifier_licence import DOC as LICENCE_DOC
from tests.test_verifier_licence import JWKS as LICENCE_JWKS
from tests.test_verifier_licence import KEYS as LICENCE_KEYS
from tests.test_verifier_licence import (
    OTHER_KEY,
    PSB_KEY,
    WALLET_KEY,
)
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


def python_licence(
    text: str, now: float, seen: set[bytes], status: str | None = None
) -> dict[str, Any]:
    def once(nonce: bytes) -> bool:
        was = nonce in seen
        seen.add(nonce)
        return was

    lists = None if status is None else {"AMR": read_status_list(status, LICENCE_KEYS, now=now)}
    v = verify_presentation(text, LICENCE_KEYS, now=now, seen=once, status_lists=lists)
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
    if v.licence is not None:
        c = v.licence
        found |= {
            "licenceId": c.licence_id,
            "typeCode": c.type_code,
            "typeName": c.type_name,
            "issuer": c.issuer,
            "holder": c.holder,
            "validFrom": c.valid_from.isoformat(),
            "validUntil": c.valid_until.isoformat() if c.valid_until else None,
            "statusIndex": c.status_index,
            "disclosed": dict(v.disclosed),
            "issuedAt": v.issued_at,
            "expiresAt": v.expires_at,
            "nonce": v.nonce.hex() if v.nonce else None,
            "statusChecked": v.status_checked,
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
  for (const [text, now, status] of vectors) {
    const statusLists = status === null ? null : { AMR: await v.readStatusList(status, keys, now) };
    const r = await v.verifyPresentation(text, keys, now, { seen: once, statusLists });
    if (r.typeCode === undefined) { found.push({ ok: r.ok, reason: r.reason }); continue; }
    if (text.startsWith("LC2:")) delete r.statusChecked;
    found.push(r);
  }
  return found;
}"""


def agreed(vectors: list[Any], expected: list[dict[str, Any]], found: list[Any]) -> set[str]:
    """Each verdict of the page the package's, for every text; the reasons they gave."""
    for vector, python, javascript in zip(vectors, expected, found, strict=True):
        assert javascript == python, str(vector)[:300]
    return {verdict["reason"] for verdict in expected}


def test_the_page_and_the_package_agree_on_city_codes(origin: Page) -> None:
    vectors = list(code_vectors())
    expected = [python_code(text, now) for text, now in vectors]
    found = origin.evaluate(PAGE_CODES, [vectors, CODE_JWKS])
    reasons = agreed(vectors, expected, found)
    assert reasons == {"valid", "malformed", "unknown_key", "withdrawn_key", "bad_signature"} | {
        "not_yet_valid",
        "expired",
    }


def test_the_page_and_the_package_agree_on_compact_presentations(origin: Page) -> None:
    vectors = [*((t, now, None) for t, now in licence_vectors()), (present(), LICENCE_NOW, None)]
    seen: set[bytes] = set()
    expected = [python_licence(text, now, seen) for text, now, _ in vectors]
    found = origin.evaluate(PAGE_LICENCES, [vectors, LICENCE_JWKS])
    reasons = agreed(vectors, expected, found)
    assert {"valid", "malformed", "unknown_key", "wrong_key", "bad_signature"} <= reasons
    assert {"too_long_lived", "not_yet_valid", "expired", "replayed"} <= reasons


def key_set_vectors() -> Iterator[tuple[str, str]]:
    """Key lists as texts, for the city code's loader ("code") and the licences' ("licence")."""
    code = json.dumps(CODE_JWKS)
    yield "code", code
    yield "code", code.replace('"withdrawn": [', '"withdrawn": null, "x": [')
    yield "code", code.replace('"alg": "EdDSA"', '"alg": null')
    yield "code", code.replace('"alg": "EdDSA", ', "")
    yield "code", code.replace('"code_key": 1', '"code_key": 1.0')
    yield "code", code.replace('"code_key": 1', '"code_key": 256')
    yield "code", code.replace('"code_key": 1', '"code_key": true')
    yield "code", code.replace('"use": "city-code"', '"use": "x", "use": "city-code"')
    yield "code", code.replace('"keys": [', '"keys": [[], ')
    yield "code", code.replace('"keys": [', '"keys": [{"use": "other"}, ')
    yield "code", code.replace('"code_key": 0', '"code_key": 1')  # listed and withdrawn
    yield "code", code.replace('"kid": "city-code-2025-12"', '"kid": "city-code-2026-01"')
    licence = json.dumps(LICENCE_JWKS)
    yield "licence", licence
    yield (
        "licence",
        licence.replace('"use": "presentation"', '"use": "presentation", "issuer": null'),
    )
    yield (
        "licence",
        licence.replace('"use": "presentation"', '"use": "presentation", "issuer": "AMR"'),
    )
    yield "licence", licence.replace('"issuer": "AMR"', '"issuer": "amr"')
    yield "licence", licence.replace('"kid": "psb-2026"', '"kid": "amr-2026"')
    yield "licence", licence.replace('"keys": [', '"keys": [["x"], ')
    yield "licence", licence.replace('"keys": [', '"keys": [{"use": "checkpoint", "kid": 1}, ')
    yield "licence", licence.replace('"crv": "Ed25519"', '"crv": "Ed448"', 1)
    yield "licence", licence.replace('"kty": "OKP"', '"kty": "OKP", "kty": "OKP"', 1)
    yield "licence", "[]"


def python_key_set(kind: str, text: str) -> str:
    try:
        if kind == "code":
            found = load_code_keys(text)
            return f"{sorted(k.kid for k in found.active.values())} {sorted(found.withdrawn)}"
        return str(sorted(load_keys(text)))
    except ValueError:
        return "refused"


PAGE_KEY_SETS = """async (vectors) => {
  const v = await import("/lib/verify.js");
  const listed = (kids) => `[${kids.map((x) => `'${x}'`).join(", ")}]`;
  const found = [];
  for (const [kind, text] of vectors) {
    try {
      if (kind === "code") {
        const k = await v.loadCodeKeys(text);
        const kids = [...k.active.values()].map((e) => e.kid).sort();
        const withdrawn = [...k.withdrawn.keys()].sort((a, b) => a - b);
        found.push(`${listed(kids)} [${withdrawn.join(", ")}]`);
      } else {
        found.push(listed([...(await v.loadLicenceKeys(text)).keys()].sort()));
      }
    } catch {
      found.push("refused");
    }
  }
  return found;
}"""


def test_the_page_and_the_package_load_the_same_key_lists(origin: Page) -> None:
    vectors = list(key_set_vectors())
    expected = [python_key_set(kind, text) for kind, text in vectors]
    assert origin.evaluate(PAGE_KEY_SETS, vectors) == expected
    assert "refused" in expected and expected.count("refused") < len(expected) - 3
