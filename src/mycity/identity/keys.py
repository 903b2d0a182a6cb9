"""Key material: where it lives, how it is generated, and how signing keys rotate.

Every key comes from `MYCITY_<NAME>` in the environment or from a file in the keys
directory. With the embedded store, missing keys are generated on first run; with
PostgreSQL they must be provisioned (`mycity keys init`), so that every server of a
deployment uses the same ones.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt import PyJWK
from jwt.utils import base64url_decode, base64url_encode

from mycity.data import department_codes
from mycity.private import write_private
from mycity.verifier.city_code_keys import code_jwk
from mycity.verifier.licence_trust import public_jwk
from mycity.verifier.note import parse_verifier_key

log = logging.getLogger(__name__)


class MissingKeyError(RuntimeError):
    pass


def _b64url(data: bytes) -> str:
    return base64url_encode(data).decode()


def new_signing_jwk() -> dict[str, str]:
    """A fresh Ed25519 private JWK whose kid is the date and a random suffix."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    kid = datetime.now(UTC).strftime("%Y%m%d") + "-" + secrets.token_hex(4)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": kid,
        "x": _b64url(public),
        "d": _b64url(key.private_bytes_raw()),
    }


@dataclass(frozen=True)
class SigningKeyRing:
    """Ed25519 keys by kid. The active one signs; every one in the ring verifies.

    Rotation adds a new active key and keeps the old ones verifying, so nothing that
    was signed before (a token, a code) stops working until it expires on its own.
    """

    keys: tuple[dict[str, Any], ...]
    active_kid: str
    # Compromised keys, published so that verifiers refuse them: {"kid", "code_key"}.
    withdrawn: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_json(cls, text: str) -> SigningKeyRing:
        data = json.loads(text)
        return cls(
            keys=tuple(data["keys"]),
            active_kid=data["active"],
            withdrawn=tuple(data.get("withdrawn", ())),
        )

    def code_keys(self) -> dict[str, int]:
        """Each key's one-byte index, as a city code names its key: kept in the key's JWK
        from its creation on; a key made before indexes existed takes the lowest free one,
        in the ring's order (the same every time the ring is read)."""
        return dict(self._code_keys)

    @functools.cached_property
    def _code_keys(self) -> dict[str, int]:
        taken = {w["code_key"] for w in self.withdrawn if "code_key" in w}
        taken |= {k["code_key"] for k in self.keys if "code_key" in k}
        found = {k["kid"]: int(k["code_key"]) for k in self.keys if "code_key" in k}
        free = (i for i in range(256) if i not in taken)
        for jwk in self.keys:
            if jwk["kid"] not in found:
                found[jwk["kid"]] = next(free)
        return found

    @property
    def withdrawn_kids(self) -> list[str]:
        return [w["kid"] for w in self.withdrawn]

    def to_json(self) -> str:
        data: dict[str, Any] = {"active": self.active_kid, "keys": list(self.keys)}
        if self.withdrawn:
            data["withdrawn"] = list(self.withdrawn)
        return json.dumps(data, indent=2)

    @classmethod
    def generate(cls) -> SigningKeyRing:
        jwk = new_signing_jwk()
        return cls(keys=(jwk,), active_kid=jwk["kid"])

    def rotated(self) -> SigningKeyRing:
        used = set(self.code_keys().values()) | {w.get("code_key") for w in self.withdrawn}
        jwk: dict[str, Any] = dict(new_signing_jwk())
        jwk["code_key"] = next(i for i in range(256) if i not in used)
        return SigningKeyRing(
            keys=(*self.keys, jwk), active_kid=jwk["kid"], withdrawn=self.withdrawn
        )

    def retired(self, kid: str) -> SigningKeyRing:
        if kid == self.active_kid:
            raise ValueError("The active key cannot be retired; rotate first")
        if kid not in {k["kid"] for k in self.keys}:
            raise KeyError(kid)
        return SigningKeyRing(
            keys=tuple(k for k in self.keys if k["kid"] != kid),
            active_kid=self.active_kid,
            withdrawn=self.withdrawn,
        )

    def withdrawn_key(self, kid: str) -> SigningKeyRing:
        """The ring without a compromised key, at once: a new key signs from now on if it
        was the active one, and the kid is published as withdrawn, so that verifiers who
        kept the old key refuse what it signed rather than trust it until they refresh."""
        ring = self.rotated() if kid == self.active_kid else self
        entry = {"kid": kid, "code_key": ring.code_keys()[kid]}
        return replace(ring.retired(kid), withdrawn=(*self.withdrawn, entry))

    def city_code_jwks(self) -> dict[str, Any]:
        """The ring as city-code verifiers read it: each key with its one-byte index, and the
        withdrawn ones (docs/city-code.md)."""
        indexes = self.code_keys()
        return {
            "keys": [
                code_jwk(self.private_key(kid).public_key(), kid, index)
                for kid, index in indexes.items()
            ],
            "withdrawn": [dict(w) for w in self.withdrawn if "code_key" in w],
        }

    def private_key(self, kid: str | None = None) -> Ed25519PrivateKey:
        """The key, decoded once per ring: tokens, codes and licences are signed with it
        on every request."""
        kid = kid or self.active_kid
        if kid not in self._private_keys:
            raise KeyError(kid)
        return self._private_keys[kid]

    @functools.cached_property
    def _private_keys(self) -> dict[str, Ed25519PrivateKey]:
        return {
            jwk["kid"]: Ed25519PrivateKey.from_private_bytes(base64url_decode(jwk["d"]))
            for jwk in self.keys
        }

    def verifying_key(self, kid: str) -> PyJWK:
        return PyJWK({k: v for k, v in self._jwk(kid).items() if k != "d"})

    def public_jwks(self) -> dict[str, Any]:
        published: dict[str, Any] = {
            "keys": [{k: v for k, v in jwk.items() if k != "d"} for jwk in self.keys]
        }
        if self.withdrawn:
            published["withdrawn"] = self.withdrawn_kids
        return published

    def _jwk(self, kid: str) -> dict[str, str]:
        for jwk in self.keys:
            if jwk["kid"] == kid:
                return jwk
        raise KeyError(kid)


def licence_trust_list(
    rings: Mapping[str, SigningKeyRing],
    wallet: SigningKeyRing,
    checkpoint_keys: Sequence[str] = (),
) -> dict[str, Any]:
    """The licence trust list (GET /licences/keys, docs/licences.md): every department's
    licence keys (which also sign its status list) and the wallet's presentation keys, as a
    JWKS; and the log's checkpoint keys (`use: "checkpoint"`, with their signed-note form
    in `note_key`), which licence verifiers skip. Made from the rings alone, so a verifier
    on a city's own machine needs no store."""
    licence = [
        public_jwk(
            ring.private_key(jwk["kid"]).public_key(), jwk["kid"], use="licence", issuer=code
        )
        for code, ring in sorted(rings.items())
        for jwk in ring.keys
    ]
    presentation = [
        public_jwk(wallet.private_key(jwk["kid"]).public_key(), jwk["kid"], use="presentation")
        for jwk in wallet.keys
    ]
    checkpoint = [
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "kid": key.split("+")[1],
            "use": "checkpoint",
            "x": base64url_encode(parse_verifier_key(key).public_key.public_bytes_raw()).decode(),
            "note_key": key,
        }
        for key in checkpoint_keys
    ]
    return {"keys": licence + presentation + checkpoint}


SECRET_KEYS = (
    "event-cipher",
    "identity-hash",
    "data-key-master",
    "code-subject",
    "presentation-nonce",
)
KEY_RINGS = ("token-signing", "code-signing", "checkpoint-signing", "wallet-signing")
LICENCE_RING_PREFIX = "licence-signing-"  # then the issuing department's code, lower case


def licence_ring(department: str) -> str:
    return LICENCE_RING_PREFIX + department.lower()


@dataclass(frozen=True)
class Keys:
    event_cipher: bytes
    identity_hash: bytes
    data_key_master: bytes  # wraps each person's data key (see store/vault.py)
    code_subject: bytes  # seals the subject reference in city codes (docs/city-code.md)
    presentation_nonce: bytes  # which licence a compact presentation shows (docs/licences.md)
    token_signing: SigningKeyRing
    code_signing: SigningKeyRing
    checkpoint_signing: SigningKeyRing  # signs the log's tree heads (see docs/audit.md)
    wallet_signing: SigningKeyRing  # signs licence presentations (see docs/licences.md)
    licence_signing: dict[str, SigningKeyRing]  # by department: its licences and status lists


class KeyStore:
    """Loads keys from the environment or the keys directory; generates them if allowed."""

    def __init__(
        self,
        keys_dir: Path,
        *,
        generate_missing: bool,
        env: dict[str, str] | None = None,
        departments: Sequence[str] | None = None,
    ):
        self.keys_dir = keys_dir
        self.generate_missing = generate_missing
        self.env = dict(os.environ) if env is None else env
        # Each issuing department signs with a ring of its own: the catalogue's by default.
        self.departments = department_codes() if departments is None else tuple(departments)

    @property
    def rings(self) -> tuple[str, ...]:
        return KEY_RINGS + tuple(licence_ring(d) for d in self.departments)

    def load(self) -> Keys:
        return Keys(
            event_cipher=self._secret("event-cipher"),
            identity_hash=self._secret("identity-hash"),
            data_key_master=self._secret("data-key-master"),
            code_subject=self._secret("code-subject"),
            presentation_nonce=self._secret("presentation-nonce"),
            token_signing=self.key_ring("token-signing"),
            code_signing=self.key_ring("code-signing"),
            checkpoint_signing=self.key_ring("checkpoint-signing"),
            wallet_signing=self.key_ring("wallet-signing"),
            licence_signing={d: self.key_ring(licence_ring(d)) for d in self.departments},
        )

    def init(self) -> list[Path]:
        """Generate every key that is missing, whatever the store; return the files written."""
        written = []
        for name, suffix, generate in self._kinds():
            path = self._path(name, suffix)
            if not self.env.get(self._env_name(name)) and not path.exists():
                self._write(path, generate())
                written.append(path)
        return written

    def key_ring(self, name: str) -> SigningKeyRing:
        return SigningKeyRing.from_json(self._read(name, ".json", _new_ring))

    def save_key_ring(self, name: str, ring: SigningKeyRing) -> Path:
        """Write a rotated ring where it was read from; a ring given inline cannot be."""
        if name not in self.rings:
            raise KeyError(f"{name} is not one of {', '.join(self.rings)}")
        if self.env.get(self._env_name(name)):
            raise MissingKeyError(
                f"{self._env_name(name)} holds the {name} ring: change it there, not on disk"
            )
        path = self._path(name, ".json")
        self._write(path, ring.to_json())
        return path

    def _secret(self, name: str) -> bytes:
        text = self._read(name, ".key", _new_secret)
        key = base64.b64decode(text.strip())
        if len(key) != 32:
            raise MissingKeyError(f"Key {name} must be 32 bytes, base64-encoded")
        return key

    def _read(self, name: str, suffix: str, generate: Callable[[], str]) -> str:
        if value := self.env.get(self._env_name(name)):
            return value
        path = self._path(name, suffix)
        if path.exists():
            return path.read_text()
        if not self.generate_missing:
            env_name = self._env_name(name)
            raise MissingKeyError(
                f"Key {name} not found: set {env_name}, {env_name}_FILE, or run `mycity keys init`"
            )
        text = generate()
        self._write(path, text)
        log.warning("Generated key %s and kept it in %s", name, path)
        return text

    @staticmethod
    def _env_name(name: str) -> str:
        return "MYCITY_" + name.upper().replace("-", "_")

    def _kinds(self) -> list[tuple[str, str, Callable[[], str]]]:
        return [(n, ".key", _new_secret) for n in SECRET_KEYS] + [
            (n, ".json", _new_ring) for n in self.rings
        ]

    def _path(self, name: str, suffix: str) -> Path:
        """The key's file: `MYCITY_<NAME>_FILE`, or `<name><suffix>` in the keys directory."""
        if file_name := self.env.get(self._env_name(name) + "_FILE"):
            return Path(file_name)
        return self.keys_dir / (name + suffix)

    @staticmethod
    def _write(path: Path, text: str) -> None:
        write_private(path, text)


def _new_secret() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _new_ring() -> str:
    return SigningKeyRing.generate().to_json()
