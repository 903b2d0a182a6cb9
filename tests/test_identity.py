"""Identity: access and refresh tokens, key rotation, phone codes, client credentials,
key material, subject ids and the SMS outbox, as a user or an attacker meets them.

Everything that touches the database runs on SQLite and on PostgreSQL (the `city`
fixture is parametrised over both stores).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from mycity.bootstrap import City, build
from mycity.cli import cli
from mycity.data import department_codes
from mycity.domain.errors import ErrorCode, UserError
from mycity.identity.credentials import Client
from mycity.identity.keys import KeyStore, MissingKeyError, SigningKeyRing
from mycity.identity.phone_codes import PhoneCodes
from mycity.identity.principal import Principal, Role
from mycity.identity.subjects import SubjectIds
from mycity.identity.tokens import AUDIENCE, TokenPair, Tokens
from mycity.integrations.sms import OutboxSms
from mycity.settings import Settings
from mycity.verifier.city_code import load_code_keys
from tests import helpers
from tests.helpers import CitizenFactory, phone, resident_id

OFFICER = Principal("officer.samr", Role.OFFICER, "SAMR", "市场监管 王")


# -- helpers ----------------------------------------------------------------------------------


# What `mycity keys init` writes: the secrets, the signing rings, a licence ring per department.
KEY_FILES = sorted(
    [
        "checkpoint-signing.json",
        "code-signing.json",
        "code-subject.key",
        "data-key-master.key",
        "event-cipher.key",
        "identity-hash.key",
        "presentation-nonce.key",
        "token-signing.json",
        "wallet-signing.json",
        *(f"licence-signing-{code.lower()}.json" for code in department_codes()),
    ]
)


def refused(code: ErrorCode, call: Callable[..., Any], *args: Any) -> UserError:
    """Run `call`, expect a UserError with `code`, and return it."""
    with pytest.raises(UserError) as caught:
        call(*args)
    assert caught.value.code is code, repr(caught.value)
    return caught.value


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def resigned(city: City, token: str, **changes: Any) -> str:
    """The token's claims with `changes` (None deletes), signed properly by the city's key."""
    claims = claims_of(token)
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    ring = city.keys.token_signing
    return jwt.encode(
        claims, ring.private_key(), algorithm="EdDSA", headers={"kid": ring.active_kid}
    )


def hs256(token: str, key: bytes) -> str:
    """The token's claims re-signed with HMAC-SHA256 under `key` (the alg confusion attack)."""
    header = jwt.get_unverified_header(token) | {"alg": "HS256"}
    signing_input = f"{b64url_json(header)}.{b64url_json(claims_of(token))}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def last_code(city: City, mobile: str) -> str:
    return helpers.last_code(city.sms, mobile)


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def raw_rows(city: City, table: str) -> list[list[Any]]:
    with city.db.transaction(commit=False) as cur:
        rows = cur.execute(f"SELECT * FROM {city.db.table(table)}").fetchall()
    return [list(row.values()) if isinstance(row, dict) else list(row) for row in rows]


def race(n: int, call: Callable[[int], Any]) -> list[Any]:
    """Start `n` threads at once (a barrier); each returns its result or its exception."""
    start = threading.Barrier(n)
    outcomes: list[Any] = [None] * n

    def run(i: int) -> None:
        start.wait(timeout=30)
        try:
            outcomes[i] = call(i)
        except Exception as e:
            outcomes[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    return outcomes


class PausingDb:
    """The city's database, but every `SELECT *` waits until all racers have read too.

    This makes the interleaving "everyone reads, then everyone writes" certain instead of
    lucky. Where the store serialises the transactions (`serialised`: SQLite's BEGIN
    IMMEDIATE, or PostgreSQL's SELECT ... FOR UPDATE) the others cannot read meanwhile; the
    barrier then times out at once and everyone goes on in turn. Where it does not, the
    barrier waits long, and `raced` says whether everyone really read before anyone wrote.
    """

    def __init__(self, city: City, racers: int, *, serialised: bool) -> None:
        self._db = city.db
        self.for_update = city.db.for_update
        self._timeout = 0.2 if serialised else 20.0
        self._barrier = threading.Barrier(racers)
        self.broken = 0

    def table(self, name: str) -> str:
        return self._db.table(name)

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Any]:
        with self._db.transaction(commit=commit) as cur:
            yield _PausingCursor(cur, self)

    def pause(self) -> None:
        try:
            self._barrier.wait(timeout=self._timeout)
        except threading.BrokenBarrierError:
            self.broken += 1

    @property
    def raced(self) -> bool:
        return self.broken == 0


class _PausingCursor:
    def __init__(self, cur: Any, db: PausingDb) -> None:
        self._cur = cur
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _PausingCursor:
        self._cur.execute(sql, params)
        if sql.startswith("SELECT *"):
            self._db.pause()
        return self

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


# -- access tokens ----------------------------------------------------------------------------


def test_access_token_verifies_back_to_the_same_citizen(city: City, people: CitizenFactory) -> None:
    person = people.register("张三")
    token = city.tokens.access_token(person.principal)
    assert city.tokens.verify(token) == person.principal
    assert city.tokens.verify(token).citizen_id == person.id


def test_access_token_carries_an_officers_department(city: City) -> None:
    back = city.tokens.verify(city.tokens.access_token(OFFICER))
    assert back == OFFICER
    assert (back.subject, back.role, back.department, back.name) == (
        "officer.samr",
        Role.OFFICER,
        "SAMR",
        "市场监管 王",
    )


def test_access_token_header_names_the_active_key_and_eddsa(city: City) -> None:
    token = city.tokens.access_token(OFFICER)
    header = jwt.get_unverified_header(token)
    assert header["kid"] == city.keys.token_signing.active_kid
    assert header["alg"] == "EdDSA"
    claims = claims_of(token)
    assert claims["aud"] == AUDIENCE
    assert claims["iss"] == city.settings.tokens.issuer
    assert claims["exp"] - int(claims["iat"]) == city.settings.tokens.access_seconds
    assert claims["iat"] == round(claims["iat"], 3)  # to the millisecond, for cut-offs


def test_every_access_token_has_its_own_id(city: City) -> None:
    first, second = (city.tokens.access_token(OFFICER) for _ in range(2))
    assert claims_of(first)["jti"] != claims_of(second)["jti"]


def test_expired_access_token_is_refused(city: City, people: CitizenFactory) -> None:
    principal = people.register().principal
    stale = city.tokens.access_token(principal, now=time.time() - 3600)
    error = refused(ErrorCode.INVALID_TOKEN, city.tokens.verify, stale)
    assert "expired" in error.message
    recent = city.tokens.access_token(principal, now=time.time() - 60)
    assert city.tokens.verify(recent) == principal


def test_tampered_payload_is_refused(city: City, people: CitizenFactory) -> None:
    token = city.tokens.access_token(people.register().principal)
    header, _, signature = token.split(".")
    promoted = claims_of(token) | {"role": "ADMIN"}
    forged = f"{header}.{b64url_json(promoted)}.{signature}"
    refused(ErrorCode.INVALID_TOKEN, city.tokens.verify, forged)


def test_tampered_signature_is_refused(city: City) -> None:
    token = city.tokens.access_token(OFFICER)
    head, payload, signature = token.split(".")
    raw = bytearray(unb64url(signature))
    raw[10] ^= 0x01
    refused(ErrorCode.INVALID_TOKEN, city.tokens.verify, f"{head}.{payload}.{b64url(bytes(raw))}")
    refused(ErrorCode.INVALID_TOKEN, city.tokens.verify, f"{head}.{payload}.")


def test_token_signed_by_another_key_ring_is_refused(city: City) -> None:
    stranger = SigningKeyRing.generate()
    own_kid = Tokens(stranger, city.db, city.settings.tokens, city.tokens.current).access_token(
        OFFICER
    )
    refused(ErrorCode.INVALID_TOKEN, city.tokens.verify, own_kid)
    # The attacker's key, but claiming to be the city's active key.
    claims = claims_of(own_kid)
    borrowed_kid = jwt.encode(
        claims,
        stranger.private_key(),
        algorithm="EdDSA",
        headers={"kid": city.keys.token_signing.active_kid},
    )
    refused(ErrorCode.INVALID_TOKEN, city.tokens.verify, borrowed_kid)


def test_unsigned_token_is_refused(city: City) -> None:
    token = city.tokens.access_token(OFFICER)
    header = jwt.get_unverified_header(token) | {"alg": "none"}
    body = b64url_json(claims_of(token))
    for alg_none in (f"{b64url_json(header)}.{body}.", f"{b64url_json(header)}.{body}"):
        refused(ErrorCode.INVALID_TOKEN, city.tokens.verify, alg_none)


def test_hs256_signed_with_the_public_key_is_refused(city: City) -> None:
    token = city.tokens.access_token(OFFICER)
    ring = city.keys.token_signing
    public = ring.private_key().public_key()
    jwk = next(k for k in ring.public_jwks()["keys"] if k["kid"] == ring.active_kid)
    for key in (
        public.public_bytes_raw(),
        jwk["x"].encode(),
        json.dumps(jwk).encode(),
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    ):
        refused(ErrorCode.INVALID_TOKEN, city.tokens.verify, hs256(token, key))


def test_wrong_audience_or_issuer_is_refused(city: City) -> None:
    token = city.tokens.access_token(OFFICER)
    assert city.tokens.verify(resigned(city, token)) == OFFICER  # the re-signing itself is sound
    for changes in (
        {"aud": "another-api"},
        {"aud": None},
        {"iss": "evil"},
        {"iss": None},
    ):
        refused(ErrorCode.INVALID_TOKEN, city.tokens.verify, resigned(city, token, **changes))
    elsewhere = Tokens(
        city.keys.token_signing,
        city.db,
        replace(city.settings.tokens, issuer="othertown"),
        city.tokens.current,
    )
    refused(ErrorCode.INVALID_TOKEN, city.tokens.verify, elsewhere.access_token(OFFICER))


def test_token_without_required_claims_or_with_unknown_role_is_refused(city: City) -> None:
    token = city.tokens.access_token(OFFICER)
    for changes in ({"exp": None}, {"sub": None}, {"role": None}, {"role": "SUPERUSER"}):
        refused(ErrorCode.INVALID_TOKEN, city.tokens.verify, resigned(city, token, **changes))


def test_token_with_unknown_or_no_kid_is_refused(city: City) -> None:
    ring = city.keys.token_signing
    claims = claims_of(city.tokens.access_token(OFFICER))
    for headers in ({"kid": "20000101-deadbeef"}, {}):
        forged = jwt.encode(claims, ring.private_key(), algorithm="EdDSA", headers=headers)
        refused(ErrorCode.INVALID_TOKEN, city.tokens.verify, forged)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x.y.z", "..", "é.é.é"])
def test_garbage_is_refused_as_invalid_token(city: City, garbage: str) -> None:
    refused(ErrorCode.INVALID_TOKEN, city.tokens.verify, garbage)


# -- key rotation -----------------------------------------------------------------------------


def test_rotation_logs_nobody_out(city: City, people: CitizenFactory) -> None:
    principal = people.register("李四").principal
    old_ring = city.keys.token_signing
    before = city.tokens.issue(principal)

    rotated = old_ring.rotated()
    assert rotated.active_kid != old_ring.active_kid
    assert old_ring.active_kid in {k["kid"] for k in rotated.keys}
    after = Tokens(rotated, city.db, city.settings.tokens, city.tokens.current)

    assert after.verify(before.access_token) == principal
    fresh = after.access_token(principal)
    assert jwt.get_unverified_header(fresh)["kid"] == rotated.active_kid
    assert after.verify(fresh) == principal

    renewed = after.refresh(before.refresh_token)
    assert jwt.get_unverified_header(renewed.access_token)["kid"] == rotated.active_kid
    assert after.verify(renewed.access_token) == principal


def test_rotation_does_not_change_the_old_ring(city: City) -> None:
    ring = city.keys.token_signing
    kids = [k["kid"] for k in ring.keys]
    ring.rotated()
    assert [k["kid"] for k in ring.keys] == kids


def test_retired_key_no_longer_verifies(city: City) -> None:
    old_ring = city.keys.token_signing
    old_token = city.tokens.access_token(OFFICER)
    rotated = old_ring.rotated()
    new_token = Tokens(rotated, city.db, city.settings.tokens, city.tokens.current).access_token(
        OFFICER
    )

    retired = rotated.retired(old_ring.active_kid)
    assert old_ring.active_kid not in {k["kid"] for k in retired.keys}
    after = Tokens(retired, city.db, city.settings.tokens, city.tokens.current)
    refused(ErrorCode.INVALID_TOKEN, after.verify, old_token)
    assert after.verify(new_token) == OFFICER


def test_a_withdrawn_key_stops_at_once_and_is_published_as_withdrawn(city: City) -> None:
    ring = city.keys.token_signing
    old_token = city.tokens.access_token(OFFICER)
    withdrawn = ring.withdrawn_key(ring.active_kid)  # the active one: a new key takes over
    assert withdrawn.active_kid != ring.active_kid
    assert ring.active_kid not in {k["kid"] for k in withdrawn.keys}
    assert withdrawn.public_jwks()["withdrawn"] == [ring.active_kid]
    assert SigningKeyRing.from_json(withdrawn.to_json()) == withdrawn
    after = Tokens(withdrawn, city.db, city.settings.tokens, city.tokens.current)
    refused(ErrorCode.INVALID_TOKEN, after.verify, old_token)
    assert after.verify(after.access_token(OFFICER)) == OFFICER


def test_the_cli_withdraws_a_compromised_key(env: dict[str, str]) -> None:
    runner = CliRunner()
    store = KeyStore(Path(env["MYCITY_KEYS_DIR"]), generate_missing=True, env={})
    active = store.key_ring("code-signing").active_kid
    done = runner.invoke(cli, ["keys", "withdraw", "code-signing", active], env=env)
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"code-signing: withdrew {active}")
    assert store.key_ring("code-signing").withdrawn_kids == [active]
    unknown = runner.invoke(cli, ["keys", "withdraw", "code-signing", "nope"], env=env)
    assert unknown.exit_code == 2 and "has no key 'nope'" in unknown.output


def test_the_active_key_cannot_be_retired_nor_an_unknown_one(city: City) -> None:
    ring = city.keys.token_signing.rotated()
    with pytest.raises(ValueError, match="active"):
        ring.retired(ring.active_kid)
    with pytest.raises(KeyError):
        ring.retired("19700101-00000000")


def test_public_jwks_has_no_private_part_and_verifies_tokens(city: City) -> None:
    ring = city.keys.token_signing.rotated()
    token = Tokens(ring, city.db, city.settings.tokens, city.tokens.current).access_token(OFFICER)
    jwks = ring.public_jwks()
    assert [k["kid"] for k in jwks["keys"]] == [k["kid"] for k in ring.keys]
    for jwk in jwks["keys"]:
        assert "d" not in jwk
        assert jwk["x"]
    assert '"d"' not in json.dumps(jwks)
    assert all("d" in k for k in ring.keys)  # the ring itself keeps them
    # What a third party does with the JWKS alone:
    by_kid = {k["kid"]: jwt.PyJWK(k) for k in jwks["keys"]}
    key = by_kid[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, key, algorithms=["EdDSA"], audience=AUDIENCE)
    assert claims["sub"] == OFFICER.subject


def test_key_ring_survives_saving_and_loading(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys", generate_missing=True, env={})
    ring = store.key_ring("token-signing").rotated()
    store.save_key_ring("token-signing", ring)
    again = KeyStore(tmp_path / "keys", generate_missing=False, env={}).key_ring("token-signing")
    assert again == ring
    assert SigningKeyRing.from_json(ring.to_json()) == ring


# -- refresh tokens ---------------------------------------------------------------------------


@pytest.fixture
def officer_client(city: City) -> None:
    """OFFICER provisioned as a client: a refresh issues tokens to whoever holds it now."""
    city.clients.add(OFFICER.subject, OFFICER.role, OFFICER.name, OFFICER.department)


def test_refresh_gives_a_new_pair_for_the_same_principal(city: City, officer_client: None) -> None:
    pair = city.tokens.issue(OFFICER)
    assert isinstance(pair, TokenPair)
    assert pair.expires_in == city.settings.tokens.access_seconds
    renewed = city.tokens.refresh(pair.refresh_token)
    assert renewed.refresh_token != pair.refresh_token
    assert renewed.access_token != pair.access_token
    assert city.tokens.verify(renewed.access_token) == OFFICER
    again = city.tokens.refresh(renewed.refresh_token)
    assert city.tokens.verify(again.access_token) == OFFICER


def test_refresh_token_is_single_use_and_replay_revokes_the_family(
    city: City, people: CitizenFactory
) -> None:
    principal = people.register().principal
    first = city.tokens.issue(principal)
    other_session = city.tokens.issue(principal)
    second = city.tokens.refresh(first.refresh_token)

    error = refused(ErrorCode.INVALID_TOKEN, city.tokens.refresh, first.refresh_token)
    assert error.field == "refreshToken"
    # The thief replayed; the newer token of the same family is dead too.
    refused(ErrorCode.INVALID_TOKEN, city.tokens.refresh, second.refresh_token)
    # Another log-in of the same person is a different family and goes on working.
    assert city.tokens.verify(city.tokens.refresh(other_session.refresh_token).access_token) == (
        principal
    )


def test_stored_refresh_tokens_are_hashed(city: City) -> None:
    pair = city.tokens.issue(OFFICER)
    rows = raw_rows(city, "refresh_tokens")
    assert len(rows) == 1
    assert not any(pair.refresh_token in str(value) for value in rows[0])
    assert hashlib.sha256(pair.refresh_token.encode()).hexdigest() in rows[0]


def test_expired_refresh_token_is_refused(city: City, officer_client: None) -> None:
    short = Tokens(
        city.keys.token_signing,
        city.db,
        replace(city.settings.tokens, refresh_seconds=-1),
        city.tokens.current,
    )
    pair = short.issue(OFFICER)
    refused(ErrorCode.INVALID_TOKEN, city.tokens.refresh, pair.refresh_token)
    refused(ErrorCode.INVALID_TOKEN, short.refresh, pair.refresh_token)


def test_unknown_refresh_token_is_refused(city: City, officer_client: None) -> None:
    city.tokens.issue(OFFICER)
    for token in ("", "not-a-token", city.tokens.access_token(OFFICER)):
        refused(ErrorCode.INVALID_TOKEN, city.tokens.refresh, token)


def test_log_out_revokes_the_family(city: City, people: CitizenFactory) -> None:
    principal = people.register().principal
    pair = city.tokens.issue(principal)
    renewed = city.tokens.refresh(pair.refresh_token)
    other_session = city.tokens.issue(principal)

    city.tokens.revoke(renewed.refresh_token)
    refused(ErrorCode.INVALID_TOKEN, city.tokens.refresh, renewed.refresh_token)
    city.tokens.revoke(renewed.refresh_token)  # twice: still fine
    city.tokens.revoke("never-issued")  # unknown: nothing happens
    assert city.tokens.verify(city.tokens.refresh(other_session.refresh_token).access_token) == (
        principal
    )


def test_log_out_with_an_older_token_of_the_family_revokes_the_newest(
    city: City, officer_client: None
) -> None:
    pair = city.tokens.issue(OFFICER)
    renewed = city.tokens.refresh(pair.refresh_token)
    city.tokens.revoke(pair.refresh_token)
    refused(ErrorCode.INVALID_TOKEN, city.tokens.refresh, renewed.refresh_token)


def test_concurrent_refreshes_of_one_token_give_exactly_one_pair(
    city: City, officer_client: None
) -> None:
    racers = 6
    pair = city.tokens.issue(OFFICER)
    paused: Any = PausingDb(city, racers, serialised=city.db.dialect == "sqlite")
    tokens = Tokens(city.keys.token_signing, paused, city.settings.tokens, city.tokens.current)
    outcomes = race(racers, lambda _: tokens.refresh(pair.refresh_token))
    assert paused.raced or city.db.dialect == "sqlite"  # on PostgreSQL they really raced

    winners = [o for o in outcomes if isinstance(o, TokenPair)]
    losers = [o for o in outcomes if not isinstance(o, TokenPair)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, UserError) for o in losers), outcomes
    assert {o.code for o in losers} == {ErrorCode.INVALID_TOKEN}
    assert city.tokens.verify(winners[0].access_token) == OFFICER


# -- phone codes ------------------------------------------------------------------------------


def test_right_code_passes_once_and_only_once(city: City) -> None:
    mobile = phone()
    retry = city.phone_codes.send(mobile)
    assert retry == city.settings.phone_codes.resend_seconds
    code = last_code(city, mobile)
    assert len(city.sms.messages(mobile)) == 1  # type: ignore[attr-defined]

    city.phone_codes.verify(mobile, code)
    refused(ErrorCode.CODE_INVALID, city.phone_codes.verify, mobile, code)


def test_code_with_surrounding_spaces_passes(city: City) -> None:
    mobile = phone()
    city.phone_codes.send(mobile)
    city.phone_codes.verify(mobile, f" {last_code(city, mobile)}\n")


def test_wrong_code_is_refused_and_the_right_one_still_works(city: City) -> None:
    mobile = phone()
    city.phone_codes.send(mobile)
    code = last_code(city, mobile)
    error = refused(ErrorCode.CODE_INVALID, city.phone_codes.verify, mobile, other_code(code))
    assert error.field == "code"
    for wrong in ("", code + "0", code[:5]):  # with the first: one short of the limit
        refused(ErrorCode.CODE_INVALID, city.phone_codes.verify, mobile, wrong)
    city.phone_codes.verify(mobile, code)


def test_code_without_asking_or_for_another_phone_is_refused(city: City) -> None:
    mine, theirs = phone(), phone()
    refused(ErrorCode.CODE_INVALID, city.phone_codes.verify, mine, "123456")
    city.phone_codes.send(theirs)
    refused(ErrorCode.CODE_INVALID, city.phone_codes.verify, mine, last_code(city, theirs))


def test_too_many_wrong_attempts_lock_out_even_the_right_code(city: City) -> None:
    mobile = phone()
    city.phone_codes.send(mobile)
    code = last_code(city, mobile)
    for _ in range(city.settings.phone_codes.attempts):
        refused(ErrorCode.CODE_INVALID, city.phone_codes.verify, mobile, other_code(code))
    refused(ErrorCode.TOO_MANY_ATTEMPTS, city.phone_codes.verify, mobile, code)
    refused(ErrorCode.TOO_MANY_ATTEMPTS, city.phone_codes.verify, mobile, other_code(code))
    # Only a new code ends the lock-out.
    city.phone_codes.send(mobile)
    city.phone_codes.verify(mobile, last_code(city, mobile))


def test_attempts_are_counted_per_phone(city: City) -> None:
    victim, attacker = phone(), phone()
    city.phone_codes.send(victim)
    city.phone_codes.send(attacker)
    for _ in range(city.settings.phone_codes.attempts):
        refused(ErrorCode.CODE_INVALID, city.phone_codes.verify, attacker, "000000x")
    city.phone_codes.verify(victim, last_code(city, victim))


def test_expired_code_is_refused(city: City, settings: Settings) -> None:
    ids = SubjectIds(city.keys.identity_hash)
    for lifetime in (-1, 0):
        codes = PhoneCodes(city.db, city.sms, ids, replace(settings.phone_codes, seconds=lifetime))
        mobile = phone()
        codes.send(mobile)
        code = last_code(city, mobile)
        time.sleep(0.01)
        error = refused(ErrorCode.CODE_EXPIRED, codes.verify, mobile, code)
        assert error.field == "code"
        refused(ErrorCode.CODE_EXPIRED, city.phone_codes.verify, mobile, code)
        # A fresh code, with the normal lifetime, works.
        city.phone_codes.send(mobile)
        city.phone_codes.verify(mobile, last_code(city, mobile))


def test_resend_within_the_interval_is_rate_limited(city: City, settings: Settings) -> None:
    slow = PhoneCodes(
        city.db,
        city.sms,
        SubjectIds(city.keys.identity_hash),
        replace(settings.phone_codes, resend_seconds=60),
    )
    mobile = phone()
    assert slow.send(mobile) == 60
    code = last_code(city, mobile)
    error = refused(ErrorCode.RATE_LIMITED, slow.send, mobile)
    assert error.field == "phone"
    assert re.search(r"\b(60|61)\b", error.message), error.message
    assert len(city.sms.messages(mobile)) == 1  # type: ignore[attr-defined]
    # The refused resend did not replace the code, and another phone is not held up.
    assert slow.send(phone()) == 60
    slow.verify(mobile, code)
    assert slow.send(mobile) == 60  # a code used to sign in clears the wait at once


def test_the_resend_wait_ends_at_exactly_its_seconds(
    city: City, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = PhoneCodes(
        city.db,
        city.sms,
        SubjectIds(city.keys.identity_hash),
        replace(settings.phone_codes, resend_seconds=60),
    )
    now = [1_900_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    mobile = phone()
    slow.send(mobile)
    now[0] += 59.999
    refused(ErrorCode.RATE_LIMITED, slow.send, mobile)
    now[0] += 0.001  # 60 s after the last code
    assert slow.send(mobile) == 60


def test_a_new_code_replaces_the_old_one(city: City) -> None:
    mobile = phone()
    city.phone_codes.send(mobile)
    old = last_code(city, mobile)
    new = old
    while new == old:  # one in a million they are the same
        city.phone_codes.send(mobile)
        new = last_code(city, mobile)
    refused(ErrorCode.CODE_INVALID, city.phone_codes.verify, mobile, old)
    city.phone_codes.verify(mobile, new)


def test_a_new_code_resets_the_attempts(city: City) -> None:
    mobile = phone()
    city.phone_codes.send(mobile)
    for _ in range(city.settings.phone_codes.attempts - 1):
        refused(ErrorCode.CODE_INVALID, city.phone_codes.verify, mobile, "abcdef")
    city.phone_codes.send(mobile)
    for _ in range(city.settings.phone_codes.attempts - 1):
        refused(ErrorCode.CODE_INVALID, city.phone_codes.verify, mobile, "abcdef")
    city.phone_codes.verify(mobile, last_code(city, mobile))


def test_phone_codes_table_stores_no_phone_and_no_code(city: City) -> None:
    mobile = phone()
    city.phone_codes.send(mobile)
    code = last_code(city, mobile)
    rows = raw_rows(city, "phone_codes")
    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0])
    assert mobile not in stored
    assert mobile[-8:] not in stored
    assert code not in stored
    # Codes are keyed per phone: the same code for another phone hashes differently.
    ids = SubjectIds(city.keys.identity_hash)
    hashes = {city.phone_codes._hash(ids.digest("phone", p).hex(), code) for p in (mobile, phone())}
    assert len(hashes) == 2


def test_wrong_guesses_in_parallel_get_no_more_than_the_allowed_attempts(
    city: City, settings: Settings
) -> None:
    racers = settings.phone_codes.attempts + 3
    mobile = phone()
    city.phone_codes.send(mobile)
    code = last_code(city, mobile)
    codes = PhoneCodes(
        PausingDb(city, racers, serialised=True),  # type: ignore[arg-type]
        city.sms,
        SubjectIds(city.keys.identity_hash),
        settings.phone_codes,
    )
    wrong = [c for c in (f"{n:06d}" for n in range(racers + 1)) if c != code][:racers]
    outcomes = race(racers, lambda i: codes.verify(mobile, wrong[i]))

    assert all(isinstance(o, UserError) for o in outcomes), outcomes
    counted = [o.code for o in outcomes]
    assert counted.count(ErrorCode.CODE_INVALID) == settings.phone_codes.attempts, counted
    assert counted.count(ErrorCode.TOO_MANY_ATTEMPTS) == racers - settings.phone_codes.attempts
    refused(ErrorCode.TOO_MANY_ATTEMPTS, city.phone_codes.verify, mobile, code)


def test_right_code_presented_twice_in_parallel_passes_once(city: City) -> None:
    racers = 2
    mobile = phone()
    city.phone_codes.send(mobile)
    code = last_code(city, mobile)
    codes = PhoneCodes(
        PausingDb(city, racers, serialised=True),  # type: ignore[arg-type]
        city.sms,
        SubjectIds(city.keys.identity_hash),
        city.settings.phone_codes,
    )
    outcomes = race(racers, lambda _: codes.verify(mobile, code))

    passed = [o for o in outcomes if o is None]
    assert len(passed) == 1, outcomes
    assert [o.code for o in outcomes if o is not None] == [ErrorCode.CODE_INVALID]


# -- client credentials -----------------------------------------------------------------------


def test_added_client_authenticates_with_its_secret(city: City) -> None:
    secret = city.clients.add("officer.samr", Role.OFFICER, "市场监管 王", "SAMR")
    assert len(secret) >= 24
    client = city.clients.authenticate("officer.samr", secret)
    assert client == Client("officer.samr", Role.OFFICER, "市场监管 王", "SAMR")
    assert client.principal() == OFFICER
    assert city.clients.get("officer.samr") == client

    merchant_secret = city.clients.add("shop-1", Role.MERCHANT, "小卖部")
    merchant = city.clients.authenticate("shop-1", merchant_secret)
    assert merchant.principal() == Principal("shop-1", Role.MERCHANT, None, "小卖部")
    assert secret != merchant_secret


def test_client_token_round_trip(city: City) -> None:
    secret = city.clients.add("auditor.1", Role.AUDITOR, "审计")
    principal = city.clients.authenticate("auditor.1", secret).principal()
    pair = city.tokens.issue(principal)
    assert city.tokens.verify(pair.access_token) == Principal(
        "auditor.1", Role.AUDITOR, None, "审计"
    )


def test_wrong_secret_or_unknown_client_is_refused(city: City) -> None:
    secret = city.clients.add("venue.gate", Role.VENUE, "地铁闸机")
    other = city.clients.add("venue.hotel", Role.VENUE, "酒店")
    for client_id, attempt in (
        ("venue.gate", secret[:-1]),
        ("venue.gate", secret + "x"),
        ("venue.gate", ""),
        ("venue.gate", other),
        ("venue.GATE", secret),
        ("nobody", secret),
        ("venue.gate' OR '1'='1", secret),
    ):
        refused(ErrorCode.INVALID_CREDENTIALS, city.clients.authenticate, client_id, attempt)
    assert city.clients.get("nobody") is None


def test_disabled_client_is_refused(city: City) -> None:
    secret = city.clients.add("feed.health", Role.AUTHORITY_FEED, "卫健委", "HEALTH")
    with city.db.transaction() as cur:
        cur.execute(
            f"UPDATE {city.db.table('api_clients')} SET disabled = 1 WHERE client_id = ?",
            ("feed.health",),
        )
    refused(ErrorCode.INVALID_CREDENTIALS, city.clients.authenticate, "feed.health", secret)
    assert city.clients.get("feed.health") is None


def test_duplicate_client_id_is_refused_and_keeps_the_first_secret(city: City) -> None:
    secret = city.clients.add("admin.one", Role.ADMIN, "管理员")
    error = refused(ErrorCode.ALREADY_REGISTERED, city.clients.add, "admin.one", Role.ADMIN, "x")
    assert error.field == "clientId"
    assert city.clients.authenticate("admin.one", secret).name == "管理员"


def test_officers_and_feeds_and_only_they_have_a_department(city: City) -> None:
    refused(ErrorCode.INVALID_ID, city.clients.add, "officer.x", Role.OFFICER, "无部门")
    refused(ErrorCode.INVALID_ID, city.clients.add, "officer.y", Role.OFFICER, "空", "")
    refused(ErrorCode.INVALID_ID, city.clients.add, "feed.x", Role.AUTHORITY_FEED, "无权威")
    for role in (Role.AUDITOR, Role.ADMIN, Role.MERCHANT, Role.VENUE):
        refused(ErrorCode.INVALID_ID, city.clients.add, "client.z", role, "有部门", "SAMR")
    city.clients.add("feed.health", Role.AUTHORITY_FEED, "卫健委", "HEALTH")
    refused(ErrorCode.INVALID_CREDENTIALS, city.clients.authenticate, "client.z", "")


def test_citizen_role_cannot_be_a_client(city: City) -> None:
    refused(ErrorCode.FORBIDDEN, city.clients.add, "citizen.1", Role.CITIZEN, "市民")
    assert city.clients.get("citizen.1") is None


@pytest.mark.parametrize(
    "client_id", ["ab", "Officer", "-lead", "a b c", "x" * 65, "a'; DROP TABLE x;--", "é.client"]
)
def test_malformed_client_id_is_refused(city: City, client_id: str) -> None:
    error = refused(ErrorCode.INVALID_ID, city.clients.add, client_id, Role.ADMIN, "x")
    assert error.field == "clientId"


def test_client_secret_is_stored_as_a_salted_scrypt_hash(city: City) -> None:
    secrets_by_id = {cid: city.clients.add(cid, Role.ADMIN, "管理员") for cid in ("adm1", "adm2")}
    with city.db.transaction(commit=False) as cur:
        rows = cur.execute(
            f"SELECT client_id, secret_hash FROM {city.db.table('api_clients')}"
        ).fetchall()
    stored = {row["client_id"]: row["secret_hash"] for row in rows}
    assert set(stored) == set(secrets_by_id)
    for client_id, secret in secrets_by_id.items():
        assert stored[client_id].startswith("scrypt$")
        assert secret not in stored[client_id]
        _, salt, digest = stored[client_id].split("$")
        assert len(bytes.fromhex(salt)) == 16
        assert len(bytes.fromhex(digest)) == 32
    assert stored["adm1"].split("$")[1] != stored["adm2"].split("$")[1]


# -- key material -----------------------------------------------------------------------------


def test_missing_keys_are_not_generated_when_not_allowed(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    store = KeyStore(keys_dir, generate_missing=False, env={})
    with pytest.raises(MissingKeyError, match="MYCITY_EVENT_CIPHER"):
        store.load()
    with pytest.raises(MissingKeyError, match="MYCITY_TOKEN_SIGNING"):
        store.key_ring("token-signing")
    assert not keys_dir.exists()


def test_each_missing_key_is_named(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    KeyStore(keys_dir, generate_missing=True, env={}).init()
    for name, env_name in (
        ("identity-hash.key", "MYCITY_IDENTITY_HASH"),
        ("code-signing.json", "MYCITY_CODE_SIGNING"),
    ):
        (keys_dir / name).rename(tmp_path / name)
        with pytest.raises(MissingKeyError, match=env_name):
            KeyStore(keys_dir, generate_missing=False, env={}).load()
        (tmp_path / name).rename(keys_dir / name)


def test_city_without_keys_generates_them_only_on_the_embedded_store(
    settings: Settings, tmp_path: Path
) -> None:
    keys_dir = tmp_path / "no-keys"
    bare = replace(settings, keys_dir=keys_dir)
    if settings.is_postgres:
        # Every server of a deployment must share the keys: none may invent its own.
        with pytest.raises(MissingKeyError, match="mycity keys init"):
            build(bare)
        assert not keys_dir.exists()
    else:
        build(bare).close()
        assert sorted(p.name for p in keys_dir.iterdir()) == KEY_FILES


def test_environment_wins_over_files(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    KeyStore(keys_dir, generate_missing=True, env={}).init()
    from_file = KeyStore(keys_dir, generate_missing=False, env={}).load()
    key = bytes(range(32))
    ring = SigningKeyRing.generate()
    env = {
        "MYCITY_EVENT_CIPHER": base64.b64encode(key).decode(),
        "MYCITY_TOKEN_SIGNING": ring.to_json(),
    }
    loaded = KeyStore(keys_dir, generate_missing=False, env=env).load()
    assert loaded.event_cipher == key != from_file.event_cipher
    assert loaded.token_signing == ring != from_file.token_signing
    assert loaded.identity_hash == from_file.identity_hash
    assert loaded.code_signing == from_file.code_signing


def test_environment_key_is_enough_and_no_file_is_written_for_it(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    key = os.urandom(32)
    env = {"MYCITY_EVENT_CIPHER": base64.b64encode(key).decode()}
    assert KeyStore(keys_dir, generate_missing=True, env=env).load().event_cipher == key
    assert not (keys_dir / "event-cipher.key").exists()
    assert (keys_dir / "identity-hash.key").exists()


def test_key_from_a_file_named_in_the_environment(tmp_path: Path) -> None:
    key = os.urandom(32)
    elsewhere = tmp_path / "secret-mount" / "cipher"
    elsewhere.parent.mkdir()
    elsewhere.write_text(base64.b64encode(key).decode() + "\n")
    KeyStore(tmp_path / "keys", generate_missing=True, env={}).init()
    env = {"MYCITY_EVENT_CIPHER_FILE": str(elsewhere)}
    assert KeyStore(tmp_path / "keys", generate_missing=False, env=env).load().event_cipher == key


@pytest.mark.parametrize("length", [1, 16, 31, 33, 64])
def test_key_of_the_wrong_length_is_refused(tmp_path: Path, length: int) -> None:
    env = {"MYCITY_EVENT_CIPHER": base64.b64encode(os.urandom(length)).decode()}
    KeyStore(tmp_path / "keys", generate_missing=True, env={}).init()
    with pytest.raises(MissingKeyError, match="32 bytes"):
        KeyStore(tmp_path / "keys", generate_missing=False, env=env).load()


def test_generated_key_files_are_private(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    old_umask = os.umask(0)  # even a careless umask must not make keys readable by others
    try:
        keys = KeyStore(keys_dir, generate_missing=True, env={}).load()
    finally:
        os.umask(old_umask)
    files = sorted(p.name for p in keys_dir.iterdir())
    assert files == KEY_FILES
    for path in keys_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(keys_dir.stat().st_mode) & 0o077 == 0
    assert len(keys.event_cipher) == len(keys.identity_hash) == len(keys.data_key_master) == 32
    assert len({keys.event_cipher, keys.identity_hash, keys.data_key_master}) == 3
    assert KeyStore(keys_dir, generate_missing=False, env={}).load() == keys


def test_init_writes_only_what_is_missing(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    store = KeyStore(keys_dir, generate_missing=False, env={})
    written = store.init()
    assert sorted(p.name for p in written) == KEY_FILES
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = {p.name: p.read_text() for p in keys_dir.iterdir()}
    assert store.init() == []
    assert {p.name: p.read_text() for p in keys_dir.iterdir()} == before

    (keys_dir / "token-signing.json").unlink()
    assert store.init() == [keys_dir / "token-signing.json"]
    after = {p.name: p.read_text() for p in keys_dir.iterdir()}
    assert after["token-signing.json"] != before["token-signing.json"]
    assert {k: v for k, v in after.items() if k != "token-signing.json"} == {
        k: v for k, v in before.items() if k != "token-signing.json"
    }


# -- subject ids ------------------------------------------------------------------------------

KEY = b"k" * 32


def test_subject_ids_are_deterministic_per_key() -> None:
    number = resident_id(42)
    assert SubjectIds(KEY).citizen(number) == SubjectIds(KEY).citizen(number)
    assert SubjectIds(KEY).citizen(number) == SubjectIds(KEY).uuid("citizen", number)
    assert SubjectIds(KEY).citizen(number) != SubjectIds(b"j" * 32).citizen(number)
    assert SubjectIds(KEY).citizen(number) != SubjectIds(KEY).citizen(resident_id(43))


def test_city_ids_come_from_its_identity_key(city: City, people: CitizenFactory) -> None:
    person = people.register()
    assert person.id == SubjectIds(city.keys.identity_hash).citizen(person.id_number)
    assert person.id != SubjectIds(KEY).citizen(person.id_number)


def test_kinds_never_collide_for_the_same_value() -> None:
    ids = SubjectIds(KEY)
    for value in (resident_id(7), "13900000007", "91430702MA0000007X", ""):
        made = {ids.citizen(value), ids.enterprise(value), ids.phone(value), ids.uuid("x", value)}
        assert len(made) == 4
        assert len({ids.digest(kind, value) for kind in ("citizen", "enterprise", "phone")}) == 3


@pytest.mark.parametrize("n", [1, 2, 3, 500, 999])
def test_ids_reveal_no_part_of_the_id_number(n: int) -> None:
    number = resident_id(n)
    made = SubjectIds(KEY).citizen(number)
    text = str(made).replace("-", "").upper()
    pieces = {number[i : i + 6] for i in range(len(number) - 5)}
    assert not any(piece in text for piece in pieces), (number, made)
    assert number[-4:] not in str(made).upper()


def test_ids_are_version_8_uuids() -> None:
    ids = SubjectIds(KEY)
    for n in range(200):
        made = ids.uuid("citizen", str(n))
        assert isinstance(made, UUID)
        assert made.version == 8
        assert str(made)[14] == "8"
        assert made.variant == "specified in RFC 4122"


# -- SMS outbox -------------------------------------------------------------------------------


def test_outbox_keeps_messages_by_phone(tmp_path: Path) -> None:
    outbox = OutboxSms(tmp_path / "sms" / "outbox.jsonl")
    assert outbox.messages() == []
    outbox.send("13900000001", "验证码 123456")
    outbox.send("13900000002", "second")
    outbox.send("13900000001", "third")
    assert [m["text"] for m in outbox.messages("13900000001")] == ["验证码 123456", "third"]
    assert [m["to"] for m in outbox.messages()] == ["13900000001", "13900000002", "13900000001"]
    assert outbox.messages("13900000003") == []
    assert "验证码" in (tmp_path / "sms" / "outbox.jsonl").read_text(encoding="utf-8")
    assert stat.S_IMODE((tmp_path / "sms" / "outbox.jsonl").stat().st_mode) == 0o600


def test_outbox_lines_stay_whole_under_threads(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    writers = [OutboxSms(path), OutboxSms(path)]  # two senders, as two processes would be
    text = "x" * 5000

    def send(i: int) -> None:
        for j in range(20):
            writers[i % 2].send(f"1390000{i:04d}", f"{j}:{text}")

    race(8, send)
    messages = OutboxSms(path).messages()
    assert len(messages) == 8 * 20
    assert all(m["text"].endswith(text) for m in messages)


def test_city_sends_codes_through_the_outbox(city: City) -> None:
    mobile = phone()
    city.phone_codes.send(mobile)
    outbox = OutboxSms(city.settings.sms_outbox)
    [message] = outbox.messages(mobile)
    assert message["to"] == mobile
    assert re.search(r"\d{6}", message["text"])
    assert str(city.settings.phone_codes.seconds // 60) in message["text"]


def test_city_code_keys_keep_their_index_through_rotation_and_withdrawal(city: City) -> None:
    ring = city.keys.code_signing
    first = ring.active_kid
    rotated = ring.rotated()
    indexes = rotated.code_keys()
    assert indexes[first] != indexes[rotated.active_kid]
    withdrawn = rotated.withdrawn_key(first)
    assert withdrawn.code_keys() == {rotated.active_kid: indexes[rotated.active_kid]}
    again = withdrawn.rotated()  # a withdrawn index is never given to a new key
    assert indexes[first] not in again.code_keys().values()
    keys = load_code_keys(again.city_code_jwks())
    assert keys.withdrawn == {indexes[first]: first}
    assert {k.kid for k in keys.active.values()} == {rotated.active_kid, again.active_kid}


def test_the_city_code_keys_are_published(server: str) -> None:
    answer = httpx.get(f"{server}/city-code/keys")
    assert answer.headers["cache-control"] == "public, max-age=300"
    assert len(load_code_keys(answer.json()).active) == 1
