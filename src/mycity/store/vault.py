"""Per-person data keys: each person's fields are sealed under keys of their own, one for
each retention class (`key_id`), so each class can be erased on its own day.

A data key is 32 random bytes, kept wrapped (AES-GCM) under the master key from
configuration in the table `data_keys`, beside the log. Erasure shreds it: the wrapped key
is deleted, and the person's sealed fields in events, snapshots and read models can no
longer be opened by anyone. The log itself, and the Merkle tree over it, stay as they
were.

Each process caches unwrapped keys. A shred in another process reaches this one within
`refresh_seconds`: recent shreds are read from the table, as session cut-offs are. Whoever
keeps decoded values (the store's cache of files) hears of each shred through `on_shred`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.personal import Retention
from mycity.store.seals import (
    NONCES,
    SEALED_V1,
    DataKey,
    Sealed,
    StreamSealer,
    key_id,
)
from mycity.store.shred_ledger import ShredLedger
from mycity.store.sql import Database, chunks

log = logging.getLogger(__name__)

WRAP_CONTEXT = b"mycity-data-key/1"
SHRED_CLOCK_SLACK = 60.0  # seconds: how far apart servers' clocks may be


class DataKeyMissing(RuntimeError):
    """A sealed value's key is neither stored nor shredded: the key table was lost, or
    belongs to another store. Nothing is shown as erased that was not."""


class Vault:
    def __init__(
        self, master: bytes, *, cache_size: int = 100_000, refresh_seconds: float = 2.0
    ) -> None:
        self._master = AESGCM(master)
        self.master_id = hashlib.sha256(master).hexdigest()[:16]
        self._index_key = hmac.new(master, b"mycity blind index", hashlib.sha256).digest()
        self.cache_size = cache_size
        self.refresh_seconds = refresh_seconds
        self._keys: OrderedDict[UUID, DataKey | None] = OrderedDict()  # None: shredded
        # Live keys by their sealed header (version and key id): what opening a value asks,
        # without building a UUID or taking the lock. Emptied at every shred it hears of.
        self._opening: dict[bytes, DataKey] = {}
        self._lock = threading.Lock()
        self._refreshed_at = time.monotonic()
        self._shreds_seen_since = time.time() - SHRED_CLOCK_SLACK
        self._db: Database | None = None
        self.ledger: ShredLedger | None = None  # where shreddings are kept apart from the store
        self.shredded_again = 0  # how many keys the last `shred_again` found back in the store
        # Told of the people whose keys were shredded, here or (within refresh_seconds)
        # in another process: what still holds their decoded values must drop them.
        self.on_shred: list[Callable[[set[UUID]], None]] = []

    def attach(self, db: Database) -> None:
        """The store's own database: known only once the event store is open."""
        self._db = db
        self.table = db.table("data_keys")

    @property
    def db(self) -> Database:
        assert self._db is not None, "attach the vault to the store first"
        return self._db

    def create_tables(self) -> None:
        blob = "BYTEA" if self.db.dialect == "postgres" else "BLOB"
        self.db.create_tables(
            [
                f"CREATE TABLE IF NOT EXISTS {self.table} (subject TEXT PRIMARY KEY, "
                f"wrapped {blob}, master TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, "
                "shredded_at DOUBLE PRECISION)",
                f'CREATE INDEX IF NOT EXISTS "data_keys_shredded_at" ON {self.table} (shredded_at)',
            ]
        )

    # -- sealing ------------------------------------------------------------------------

    def seal(self, subject: UUID, plaintext: bytes) -> Sealed:
        return self.seal_all(subject, [plaintext])[0]

    def seal_all(self, subject: UUID, plaintexts: Sequence[bytes]) -> list[Sealed]:
        """Several of one person's values, with one look-up of their key."""
        return self.seal_each([(subject, plaintext) for plaintext in plaintexts])

    def seal_each(self, values: Sequence[tuple[UUID, bytes]]) -> list[Sealed]:
        """Many people's values (a page of rows), each person's key looked up once, and
        those not in memory loaded in one query."""
        keys = self._sealing_keys({subject for subject, _ in values})
        sealed = []
        for subject, plaintext in values:
            header = SEALED_V1 + subject.bytes
            nonce = NONCES.next()
            ciphertext = keys[subject].aead.encrypt(nonce, plaintext, header)
            sealed.append(Sealed(header + nonce + ciphertext))
        return sealed

    def stream_sealer(self, subject: UUID) -> StreamSealer:
        """A sealer of one long value of this person's, fed chunk by chunk."""
        return StreamSealer(subject, self._sealing_key(subject))

    def _sealing_key(self, subject: UUID) -> DataKey:
        return self._sealing_keys({subject})[subject]

    def _sealing_keys(self, subjects: set[UUID]) -> dict[UUID, DataKey]:
        self.refresh()
        with self._lock:
            known = {s: self._keys[s] for s in subjects if s in self._keys}
            for subject in known:
                self._keys.move_to_end(subject)
        if len(known) < len(subjects):
            known |= self._load(sorted(subjects - known.keys()), create=True)
        keys = {s: k for s, k in known.items() if k is not None}
        if len(keys) < len(subjects):
            raise UserError(ErrorCode.FILE_ERASED, "This person's data was erased")
        return keys

    def open(self, sealed: Sealed) -> bytes | None:
        """The plaintext, or None once the person's key is shredded."""
        return self.open_all([sealed])[0]

    def open_all(self, values: Sequence[Sealed]) -> list[bytes | None]:
        """Several values (an event's sealed fields): a live key is found by the value's
        header alone; others (not loaded, or shredded) are looked up as `open` does."""
        self.refresh()
        opening = self._opening
        opened: list[bytes | None] = []
        for sealed in values:
            blob = sealed.blob
            header = blob[:17]
            key = opening.get(header)
            if key is None:
                if blob[:1] != SEALED_V1:
                    raise ValueError("Not a sealed value of a known version")
                key = self._key(sealed.subject, create=False)
                if key is not None:
                    if len(opening) >= self.cache_size:
                        opening.clear()
                    opening[header] = key
            opened.append(None if key is None else key.aead.decrypt(blob[17:29], blob[29:], header))
        return opened

    def ensure(self, subjects: Iterable[UUID]) -> None:
        """Give every one of these people a data key, in one statement: done by each
        command's own thread, so the group commit's leader finds them ready."""
        missing = sorted(s for s in set(subjects) if s not in self._keys)
        if missing:
            self._load(missing, create=True)

    def _key(self, subject: UUID, *, create: bool) -> DataKey | None:
        self.refresh()
        with self._lock:
            if subject in self._keys:
                self._keys.move_to_end(subject)
                return self._keys[subject]
        return self._load([subject], create=create)[subject]

    def _load(self, subjects: list[UUID], *, create: bool) -> dict[UUID, DataKey | None]:
        """Their keys as stored; with `create`, a new one for each who has none. Those who
        have keys are read first: an upsert of rows that exist rewrites every one of them."""
        found = self._select(subjects)
        if create and (keyless := [s for s in subjects if s not in found]):
            found |= self._upsert(keyless)
        if len(found) < len(subjects):
            absent = next(s for s in subjects if s not in found)
            raise DataKeyMissing(f"No data key for {absent}: is this the store's key table?")
        return self._remember(found)

    def prefetch(self, subjects: Iterable[UUID]) -> None:
        """Load the keys of these people in one query, if they have keys (a page of the log
        about to be decoded: one round trip instead of one per person). Those in memory
        become the freshest: else loading the others could evict them before they are used,
        and each would then be looked up alone (a page of people last seen long ago)."""
        wanted = []
        with self._lock:
            for subject in set(subjects):
                if subject in self._keys:
                    self._keys.move_to_end(subject)
                else:
                    wanted.append(subject)
        if wanted:
            self._remember(self._select(wanted))

    def _remember(self, found: dict[UUID, bytes | None]) -> dict[UUID, DataKey | None]:
        """Unwrap and cache the keys found; the live ones also by their sealed header, so
        that opening a value of theirs (a page of the log just prefetched) asks nothing."""
        keys = {s: None if w is None else DataKey(self._unwrap(s, w)) for s, w in found.items()}
        opening = self._opening
        if len(opening) + len(keys) > self.cache_size:
            opening.clear()
        with self._lock:
            for subject, key in keys.items():
                self._keys[subject] = key
                if key is not None:
                    opening[SEALED_V1 + subject.bytes] = key
            while len(self._keys) > self.cache_size:
                self._keys.popitem(last=False)
        return keys

    def _select(self, subjects: list[UUID]) -> dict[UUID, bytes | None]:
        """The stored keys of these people, by the ids asked (not parsed back from text)."""
        asked = {str(s): s for s in subjects}
        names = sorted(asked)  # in the index's order: fewer of its pages touched
        with self.db.read() as cur:
            rows = cur.select_ids(f"SELECT subject, wrapped FROM {self.table} WHERE subject", names)
        return {asked[subject]: _bytes(wrapped) for subject, wrapped in rows}

    def _upsert(self, subjects: list[UUID]) -> dict[UUID, bytes | None]:
        """A new key for each person who has none, and every one's key as stored, in one
        statement: the existing row wins, so two processes agree on one key."""
        now = time.time()
        rows = [
            (str(s), self._wrap(s, secrets.token_bytes(32)), self.master_id, now) for s in subjects
        ]
        marks = ", ".join("(?, ?, ?, ?)" for _ in rows)
        with self.db.transaction() as cur:
            found = cur.execute(
                f"INSERT INTO {self.table} (subject, wrapped, master, created_at) VALUES {marks} "
                "ON CONFLICT (subject) DO UPDATE SET subject = excluded.subject "
                "RETURNING subject, wrapped",
                [value for row in rows for value in row],
            ).fetchall()
        return {UUID(r["subject"]): _bytes(r["wrapped"]) for r in found}

    def _wrap(self, subject: UUID, key: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._master.encrypt(nonce, key, WRAP_CONTEXT + subject.bytes)

    def _unwrap(self, subject: UUID, wrapped: bytes) -> bytes:
        return self._master.decrypt(wrapped[:12], wrapped[12:], WRAP_CONTEXT + subject.bytes)

    # -- shredding ----------------------------------------------------------------------

    def shred(self, subject: UUID) -> bool:
        """Destroy the person's data key; False if it was gone already. The ledger has it
        first: a restore of an older backup shreds it again."""
        if self.ledger is not None:
            self.ledger.record(subject, time.time())
        with self.db.transaction() as cur:
            shredded = cur.execute(
                f"UPDATE {self.table} SET wrapped = NULL, shredded_at = ? "
                "WHERE subject = ? AND wrapped IS NOT NULL",
                (time.time(), str(subject)),
            ).rowcount
            if not shredded:  # never sealed anything: keep the fact that it is gone
                cur.execute(
                    f"INSERT INTO {self.table} (subject, wrapped, master, created_at, "
                    "shredded_at) VALUES (?, NULL, ?, ?, ?) ON CONFLICT (subject) DO NOTHING",
                    (str(subject), self.master_id, time.time(), time.time()),
                )
        with self._lock:
            self._keys[subject] = None
        self._tell({subject})
        return bool(shredded)

    def shred_again(self, subjects: Iterable[UUID]) -> int:
        """Destroy the keys of these people that a restored store holds again (they are in
        the ledger already), `MANY` a statement; how many there were."""
        names = sorted({str(s) for s in subjects})
        shredded = self.shredded_again = 0
        with self.db.transaction() as cur:
            for chunk in chunks(names):
                shredded += cur.execute(
                    f"UPDATE {self.table} SET wrapped = NULL, shredded_at = ? "
                    f"WHERE wrapped IS NOT NULL AND subject IN ({', '.join('?' * len(chunk))})",
                    (time.time(), *chunk),
                ).rowcount
        if shredded:
            self._opening.clear()
            log.warning("shredded again %d data keys of erased people the store held", shredded)
        self.shredded_again = shredded
        return shredded

    def shred_with_their_people(self) -> int:
        """Shred the service-activity key of everyone whose own key is shredded, in one
        statement per `MANY`: erasures made before there were retention classes shredded a
        person's own key alone (in this scheme it goes last). A person's own id is a
        version-8 UUID (`identity.subjects`); a service key's never is."""
        with self.db.read() as cur:
            rows = cur.execute(  # by the shredded_at index: every shredded row has one
                f"SELECT subject FROM {self.table} WHERE shredded_at IS NOT NULL"
            ).fetchall()
        shredded = {UUID(r["subject"]) for r in rows}
        service = Retention.SERVICE_ACTIVITY
        missing = sorted(str(key_id(s, service)) for s in shredded if s.version == 8)
        missing = [m for m in missing if UUID(m) not in shredded]
        now = time.time()
        with self.db.transaction() as cur:
            for chunk in chunks(missing):
                marks = ", ".join("(?, NULL, ?, ?, ?)" for _ in chunk)
                cur.execute(
                    f"INSERT INTO {self.table} (subject, wrapped, master, created_at, "
                    f"shredded_at) VALUES {marks} ON CONFLICT (subject) DO UPDATE SET "
                    "wrapped = NULL, shredded_at = excluded.shredded_at",
                    [v for s in chunk for v in (s, self.master_id, now, now)],
                )
        if missing:
            self._opening.clear()
            with self._lock:
                for subject in missing:
                    self._keys[UUID(subject)] = None
            log.warning(
                "shredded the service-activity keys of %d people erased before", len(missing)
            )
        return len(missing)

    def can_seal(self, subject: UUID) -> bool:
        """Whether this person's values can be sealed now: a key is theirs (given now if
        they had none), not shredded. Asked before a command joins a group commit, where
        a refusal to seal would fail every command saved with it."""
        return self._key(subject, create=True) is not None

    def is_shredded(self, subject: UUID) -> bool:
        """Whether the person's key is shredded (False too if they never had one)."""
        return self._select([subject]).get(subject, b"") is None

    def refresh(self) -> None:
        """Forget the keys other processes have shredded lately (at most every
        refresh_seconds: each call costs a clock reading until then)."""
        if time.monotonic() - self._refreshed_at < self.refresh_seconds:
            return
        with self._lock:
            if time.monotonic() - self._refreshed_at < self.refresh_seconds:
                return
            self._refreshed_at = time.monotonic()
        since = self._shreds_seen_since
        with self.db.read() as cur:
            rows = cur.execute(
                f"SELECT subject, shredded_at FROM {self.table} WHERE shredded_at >= ?", (since,)
            ).fetchall()
        news = set()
        with self._lock:
            for row in rows:
                subject = UUID(row["subject"])
                if subject not in self._keys or self._keys[subject] is not None:
                    news.add(subject)
                self._keys[subject] = None
                self._shreds_seen_since = max(
                    self._shreds_seen_since, float(row["shredded_at"]) - SHRED_CLOCK_SLACK
                )
        if news:
            self._tell(news)

    def _tell(self, shredded: set[UUID]) -> None:
        self._opening.clear()
        for listener in self.on_shred:
            listener(shredded)

    # -- searching ----------------------------------------------------------------------

    def index(self, text: str) -> str:
        """A blind index of a personal value: equal values give equal tokens, and a token
        cannot be read back without the master key (searching sealed names, exactly)."""
        return "#" + hmac.new(self._index_key, text.encode(), hashlib.sha256).hexdigest()[:32]


def _bytes(value: object) -> bytes | None:
    return None if value is None else bytes(value)  # type: ignore[call-overload]
