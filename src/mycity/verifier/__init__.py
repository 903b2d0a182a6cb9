"""Offline checks of what the city's event log publishes, for partners and auditors to vendor.

The package depends on the standard library and `cryptography` only and imports nothing else
from mycity (no settings, database or server), so it can be copied out and run anywhere.

- `merkle`: RFC 9162 Merkle tree hashes, and inclusion and consistency proofs.
- `note`: C2SP signed notes with Ed25519 keys, as Go's golang.org/x/mod/sumdb/note writes them.
- `checkpoint`: C2SP tlog checkpoints, the log's signed tree heads.
- `records`: the bytes of a stored event that its Merkle leaf hashes.
- `proofs`: the log's inclusion and consistency proofs as the CLI prints them, checked.
- `licence`: e-licences (电子证照): identifiers, credentials, QR presentations, status lists.
- `city_code`: the city's one dynamic code (一码通城): its binary format, keys, offline check.
- `base45`: RFC 9285, the QR-alphanumeric text both codes are written in.
"""
