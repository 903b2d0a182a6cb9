"""A pool of citizens registered over GraphQL, as the app registers them: their access tokens.

Each asks for a phone code, reads it from the server's local SMS outbox (a JSON line per
message) and opens a file with it. Only the public surface is used, so this keeps working
while the server's internals move.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from benchmarks.servers import post_graphql

AREA = "430702"
WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # GB 11643: ISO 7064 MOD 11-2
CHECK = "10X98765432"
CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")
PARALLEL = 8  # registrations in flight: they wait on PostgreSQL more than on the CPU

REQUEST_CODE = """mutation($phone: String!) {
  requestPhoneCode(input: {phone: $phone}) { userErrors { code message } }
}"""
REGISTER = """mutation($idNumber: String!, $name: String!, $phone: String!, $code: String!) {
  registerCitizen(input: {idNumber: $idNumber, name: $name, phone: $phone, code: $code}) {
    tokens { accessToken }
    userErrors { code message }
  }
}"""


def resident_id(i: int) -> str:
    """The i-th of distinct valid ID numbers: each its own birth date."""
    first17 = f"{AREA}{date(1960, 1, 1) + timedelta(days=i):%Y%m%d}{i % 1000:03d}"
    return first17 + CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def _sms_code(outbox: Path, phone: str) -> str:
    """The code in the last message to the phone."""
    texts = [
        m["text"] for m in map(json.loads, outbox.read_text().splitlines()) if m["to"] == phone
    ]
    if not texts or not (found := CODE.search(texts[-1])):
        raise RuntimeError(f"no code for {phone} in {outbox}")
    return found.group()


def _payload(answer: dict, field: str) -> dict:
    payload = (answer.get("data") or {}).get(field)
    if answer.get("errors") or not payload or payload["userErrors"]:
        raise RuntimeError(f"{field}: {json.dumps(answer, ensure_ascii=False)}")
    return payload  # type: ignore[no-any-return]


def _register(url: str, outbox: Path, i: int) -> str:
    phone = f"139{i:08d}"
    _payload(post_graphql(url, REQUEST_CODE, {"phone": phone}), "requestPhoneCode")
    person = {"idNumber": resident_id(i), "name": f"压测{i}", "phone": phone}
    answer = post_graphql(url, REGISTER, {**person, "code": _sms_code(outbox, phone)})
    return str(_payload(answer, "registerCitizen")["tokens"]["accessToken"])


def register_pool(url: str, outbox: Path, size: int) -> list[str]:
    """Register `size` citizens; their access tokens."""
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(lambda i: _register(url, outbox, i), range(size)))
