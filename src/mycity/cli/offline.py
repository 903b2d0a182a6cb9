"""What an offline command works with: the files it is given, and the keys this machine
holds if it is one of a city's servers; never anything it would have to create.

A verifier run on a hotel's laptop must not leave server secrets and a database behind, so
it reads keys without generating them and never opens the store.
"""

from __future__ import annotations

from collections.abc import Sequence

from mycity.cli.app import Failure
from mycity.identity.keys import KeyStore, MissingKeyError, SigningKeyRing
from mycity.settings import Settings


def held_rings(names: Sequence[str], endpoint: str) -> dict[str, SigningKeyRing]:
    """This machine's rings of those names, read as the server reads them (`MYCITY_<NAME>`,
    its file, the keys directory); without them, a line that says where to get the keys."""
    keys_dir = Settings.from_env().keys_dir
    store = KeyStore(keys_dir, generate_missing=False)
    try:
        return {name: store.key_ring(name) for name in names}
    except MissingKeyError:
        raise Failure(
            f"no keys to verify with: fetch them from the server ({endpoint}) and pass "
            f"--keys FILE (this machine holds no city's keys in {keys_dir})"
        ) from None
