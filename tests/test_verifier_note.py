"""Signed notes and checkpoints, against the vectors of Go's golang.org/x/mod and of C2SP.

Keys, notes and the signed tree heads come from github.com/golang/mod: sumdb/note/note_test.go
and sumdb/client_test.go (the localhost.localdev/sumdb key and the two tree notes in the
"SECURITY ERROR" comment), sumdb/tlog/note_test.go (a tree body), and from
github.com/C2SP/C2SP: signed-note.md and tlog-checkpoint.md (their examples). Ed25519 signs
deterministically, so signing with Go's private keys must give Go's notes byte for byte.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from mycity.verifier.checkpoint import (
    Checkpoint,
    parse_checkpoint,
    signed_at,
    time_line,
    verify_checkpoint,
)
from mycity.verifier.merkle import leaf_hash
from mycity.verifier.note import (
    Verifier,
    decode_base64,
    key_hash,
    open_note,
    parse_verifier_key,
    sign_note,
    verifier_key,
)

PETER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_PRIVATE = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_KEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZ"
    "b6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33W"
    "Wd1RvMc+QQ=\n"
)
SUMDB_KEY = "localhost.localdev/sumdb+00000c67+AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6"
SUMDB_PRIVATE = (
    "PRIVATE+KEY+localhost.localdev/sumdb+00000c67+AXu6+oaVaOYuQOFrf1V59JK1owcFlJcHwwXHDfDGxSPk"
)
SUMDB_TREE_6 = (
    "go.sum database tree\n6\nwc4SkQt52o5W2nQ8To2ARs+mWuUJjss+sdleoiqxMmM=\n\n"
    "— localhost.localdev/sumdb AAAMZ6oRNswlEZ6ZZhxrCvgl1MBy+nusq4JU+TG6Fe2NihWLqOzb+y2c2kzRLoCr4t"
    "vw9o36ucQEnhc20e4nA4Qc/wc=\n"
)
SUMDB_TREE_5 = (  # the comment shows its origin as "go.sum database tree!", the tampered copy
    "go.sum database tree\n5\nnWzN20+pwMt62p7jbv1/NlN95ePTlHijabv5zO/s36w=\n\n"
    "— localhost.localdev/sumdb AAAMZ5/2FVAdMH58kmnz/0h299pwyskEbzDzoa2/YaPdhvLya4YWDFQQxu2TQb5Gp"
    "wAH4NdWnTwuhILafisyf3CNbgg=\n"
)
C2SP_KEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRK"
    "uwHjG1Yu72IneyaQM=\n"
)

PETER = parse_verifier_key(PETER_KEY)
ENOCH = parse_verifier_key(ENOCH_KEY)
SUMDB = parse_verifier_key(SUMDB_KEY)


def go_private_key(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """Name and key of Go's `PRIVATE+KEY+name+hash+base64(0x01 || seed)`."""
    _, _, name, _, encoded = skey.split("+", 4)
    return name, Ed25519PrivateKey.from_private_bytes(base64.b64decode(encoded)[1:])


# -- keys ---------------------------------------------------------------------------------------


def test_go_verifier_keys_parse() -> None:
    assert PETER.name == "PeterNeumann"
    assert PETER.key_hash == bytes.fromhex("c74f20a3")
    assert ENOCH.key_hash == bytes.fromhex("af0cfe78")
    assert SUMDB.key_hash == bytes.fromhex("00000c67")


@pytest.mark.parametrize("vkey", [PETER_KEY, ENOCH_KEY, SUMDB_KEY, C2SP_KEY])
def test_verifier_key_writes_what_it_parses(vkey: str) -> None:
    verifier = parse_verifier_key(vkey)
    public_key = verifier.public_key.public_bytes_raw()
    assert key_hash(verifier.name, public_key) == verifier.key_hash
    assert verifier_key(verifier.name, public_key) == vkey
    assert parse_verifier_key(vkey) == verifier
    assert len({verifier, parse_verifier_key(vkey)}) == 1


def test_go_private_keys_derive_go_verifier_keys() -> None:
    for skey, vkey in [(PETER_PRIVATE, PETER_KEY), (SUMDB_PRIVATE, SUMDB_KEY)]:
        name, private_key = go_private_key(skey)
        assert verifier_key(name, private_key.public_key().public_bytes_raw()) == vkey


def test_every_mangling_of_a_go_key_is_refused() -> None:
    """Go's TestNewVerifier: every proper substring, and every one-byte increment."""
    for start in range(len(PETER_KEY) + 1):
        for end in range(start + 1, len(PETER_KEY) + 1):
            if (start, end) != (0, len(PETER_KEY)):
                with pytest.raises(ValueError, match=r"verifier key|key name"):
                    parse_verifier_key(PETER_KEY[start:end])
    for i in range(len(PETER_KEY)):
        mangled = PETER_KEY[:i] + chr(ord(PETER_KEY[i]) + 1) + PETER_KEY[i + 1 :]
        with pytest.raises(ValueError, match=r"verifier key|key name"):
            parse_verifier_key(mangled)


@pytest.mark.parametrize(
    ("vkey", "problem"),
    [
        ("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", "base64"),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "Ed25519"),
        ("", "key name"),
        ("PeterNeumann", "8 lowercase hex"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key name"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key name"),
        ("Peter\u00a0Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key name"),
        ("Peter\x00Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key name"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 lowercase hex"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 lowercase hex"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=", "base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n", "base64"),
        ("PeterNeumann+c74f20a3+", "Ed25519"),
        ("PeterNeumann+c74f20a3+AQ==", "32 bytes"),
    ],
)
def test_bad_verifier_keys_are_refused_with_a_reason(vkey: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_verifier_key(vkey)


def test_key_functions_refuse_keys_of_the_wrong_size_and_bad_names() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        key_hash("name", b"\x00" * 31)
    with pytest.raises(ValueError, match="32 bytes"):
        verifier_key("name", b"\x00" * 33)
    with pytest.raises(ValueError, match="key name"):
        verifier_key("a+b", b"\x00" * 32)


def test_base64_has_one_spelling() -> None:
    assert decode_base64("YQ==") == b"a"
    assert decode_base64("") == b""
    for bad in ["YR==", "YQ", "YQ===", "Y Q==", "YQ==\n", "=YQ==", "é", "YQ-_", None, b"YQ=="]:
        assert decode_base64(bad) is None  # type: ignore[arg-type]


# -- signing and opening ----------------------------------------------------------------------


def test_signing_with_go_keys_gives_go_notes() -> None:
    name, private_key = go_private_key(PETER_PRIVATE)
    assert sign_note(TEXT, name, private_key) == TEXT + "\n" + PETER_SIG
    name, private_key = go_private_key(SUMDB_PRIVATE)
    for note in [SUMDB_TREE_5, SUMDB_TREE_6]:
        text = note[: note.rindex("\n\n") + 1]
        assert sign_note(text, name, private_key) == note


def test_go_and_c2sp_notes_open() -> None:
    assert open_note(TEXT + "\n" + PETER_SIG, [PETER]) == TEXT
    assert open_note(C2SP_NOTE, [parse_verifier_key(C2SP_KEY)]) == "This is an example message.\n"
    assert open_note(SUMDB_TREE_6, [SUMDB]) == SUMDB_TREE_6[: SUMDB_TREE_6.rindex("\n\n") + 1]


def test_go_open_cases() -> None:
    """Go's TestOpen, with None for each of its errors."""
    both = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(both, [PETER]) == TEXT
    assert open_note(both, [ENOCH]) == TEXT
    assert open_note(both, [PETER, ENOCH]) == TEXT
    assert open_note(both, []) is None
    assert open_note(TEXT + "\n" + PETER_SIG, [ENOCH, PETER, ENOCH]) == TEXT
    # Go calls a key listed twice ambiguous; the same key twice is one key here.
    assert open_note(TEXT + "\n" + ENOCH_SIG, [ENOCH, PETER, ENOCH]) == TEXT
    assert open_note(TEXT + "\n" + PETER_SIG * 100, [PETER]) == TEXT
    assert open_note(TEXT + "\n" + PETER_SIG * 101, [PETER]) is None
    assert open_note(TEXT + "\n" + PETER_SIG * 101, []) is None
    assert open_note(TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:], [PETER]) is None
    bad_enoch = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    repeated = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + bad_enoch
    assert open_note(repeated, [PETER]) == TEXT  # Enoch is unknown: his lines are skipped
    assert open_note(repeated, [PETER, ENOCH]) is None  # a known key's bad line
    misnamed = PETER_SIG.replace("PeterNeumann", "CarmenSandiego")
    assert open_note(TEXT + "\n" + misnamed, [PETER]) is None
    assert open_note(TEXT + "\n" + PETER_SIG.replace("x08g", "xxxx"), [PETER]) is None


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        "\udcff" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
        "KvqfqdngotpRZb6KE6RyyBwJnAM=",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        # and more of the same kind
        "",
        "\n",
        "\n\n",
        TEXT + "\n" + PETER_SIG + "\n",
        TEXT + "\n\n" + PETER_SIG.replace("\n", "\n\n"),
        TEXT + "\n" + PETER_SIG.replace("—", "-"),
        TEXT + "\n" + PETER_SIG.replace("— ", "—"),
        TEXT + "\n" + PETER_SIG.replace(" x08go", "  x08go"),
        TEXT + "\n" + PETER_SIG.replace("AM=", "AN="),
        TEXT + "\n" + PETER_SIG.replace("AM=", "AM"),
        TEXT + "\n" + PETER_SIG.replace("x08go/ZJ", "x08go/ZJ "),
        TEXT + "\n— PeterNeumann x08go/Y=\n",
        TEXT + "\n— PeterNeumann \n",
        TEXT + "\n— PeterNeumann\n",
        TEXT + "\n" + PETER_SIG.replace("\n", "\r\n"),
        TEXT.replace("\n", "\r\n") + "\r\n" + PETER_SIG,
        TEXT + "\n" + PETER_SIG + "\t",
    ],
)
def test_malformed_notes_open_to_none(note: str) -> None:
    assert open_note(note, [PETER]) is None


@pytest.mark.parametrize("note", [None, 42, TEXT.encode() + b"\n" + PETER_SIG.encode(), [TEXT]])
def test_notes_that_are_not_text_open_to_none(note: Any) -> None:
    assert open_note(note, [PETER]) is None


def test_a_changed_key_hash_or_public_key_does_not_verify() -> None:
    note = TEXT + "\n" + PETER_SIG
    assert open_note(note, [Verifier(PETER.name, b"\x00\x00\x00\x00", PETER.public_key)]) is None
    # The same name and key ID with another key: a collision attempt, which cannot sign.
    impostor = Verifier(PETER.name, PETER.key_hash, ENOCH.public_key)
    assert open_note(note, [impostor]) is None
    assert open_note(note, [impostor, PETER]) is None


FRESH_KEY = Ed25519PrivateKey.generate()
FRESH = parse_verifier_key(
    verifier_key("city.example/log", FRESH_KEY.public_key().public_bytes_raw())
)
note_lines = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=40)
note_texts = st.lists(note_lines, min_size=1, max_size=5).map(
    lambda lines: "".join(line + "\n" for line in lines)
)


@settings(max_examples=200, deadline=None)
@given(note_texts, st.data())
def test_signed_notes_open_and_any_one_change_spoils_them(text: str, data: st.DataObject) -> None:
    note = sign_note(text, FRESH.name, FRESH_KEY)
    assert open_note(note, [FRESH]) == text
    assert open_note(note, [PETER]) is None
    at = data.draw(st.integers(0, len(note) - 1))
    replacement = data.draw(
        st.characters(exclude_categories=["Cs"]).filter(lambda c: c != note[at])
    )
    assert open_note(note[:at] + replacement + note[at + 1 :], [FRESH]) is None


def test_unknown_signers_are_skipped_but_a_known_one_is_needed() -> None:
    other_key = Ed25519PrivateKey.generate()
    cosigned = sign_note(TEXT, "witness.example", other_key) + PETER_SIG
    assert open_note(cosigned, [PETER]) == TEXT
    assert open_note(cosigned, [FRESH]) is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("no newline", "name"),
        ("", "name"),
        ("bell\x07\n", "name"),
        ("carriage\r\n", "name"),
        ("surrogate \udc80\n", "name"),
        (TEXT, ""),
        (TEXT, "two words"),
        (TEXT, "a+b"),
        (TEXT, "tab\tname"),
    ],
)
def test_sign_note_refuses_what_no_note_may_hold(text: str, name: str) -> None:
    with pytest.raises(ValueError, match=r"note text|key name"):
        sign_note(text, name, FRESH_KEY)


# -- checkpoints --------------------------------------------------------------------------------

C2SP_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
GO_TREE_BODY = "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"


def test_the_c2sp_and_go_bodies_parse() -> None:
    checkpoint = parse_checkpoint(C2SP_BODY)
    assert checkpoint is not None
    assert (checkpoint.origin, checkpoint.size, checkpoint.extensions) == (
        "example.com/behind-the-sofa",
        20852163,
        (),
    )
    assert checkpoint.text() == C2SP_BODY
    # Go's tlog.RecordHash("hello world") is the RFC 9162 leaf hash.
    assert parse_checkpoint(GO_TREE_BODY) == Checkpoint(
        "go.sum database tree", 123456789012, leaf_hash(b"hello world")
    )


def test_extension_lines_round_trip() -> None:
    checkpoint = Checkpoint("log.example/1", 0, b"\x07" * 32, ("ext one", "ext:2"))
    assert checkpoint.text() == f"log.example/1\n0\n{'BwcH' * 10}Bwc=\next one\next:2\n"
    assert parse_checkpoint(checkpoint.text()) == checkpoint
    assert (
        parse_checkpoint(GO_TREE_BODY + "JOE\n") is not None
    )  # an extension: Go's tlog.ParseTree ignores it


lines = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(lines, st.integers(0, 2**64 - 1), st.binary(min_size=32, max_size=32), st.lists(lines))
def test_checkpoints_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert parse_checkpoint(checkpoint.text()) == checkpoint


GOOD_ROOT = "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0="


@pytest.mark.parametrize(
    "body",
    [
        "not-" + GO_TREE_BODY[:-1],
        "go.sum database tree\n0xabcdef\n" + GOOD_ROOT + "\n",
        "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n",
        GO_TREE_BODY + "JOE",
        "",
        "\n",
        "origin\n5\n",
        "origin\n" + GOOD_ROOT + "\n",
        "\n5\n" + GOOD_ROOT + "\n",
        *(
            f"origin\n{size}\n{GOOD_ROOT}\n"
            for size in ["", "01", "00", "+5", "-5", " 5", "5 ", "1_000", "٥", "５", "0x5"]
        ),
        f"origin\n{2**64}\n{GOOD_ROOT}\n",
        f"origin\n{'9' * 5000}\n{GOOD_ROOT}\n",
        "origin\n5\n" + GOOD_ROOT[:-1] + "\n",
        "origin\n5\n" + GOOD_ROOT[:-2] + "1=\n",
        "origin\n5\n" + GOOD_ROOT + "=\n",
        "origin\n5\n" + GOOD_ROOT.replace("+", "-") + "\n",
        "origin\n5\n" + base64.b64encode(b"\x00" * 31).decode() + "\n",
        "origin\n5\n" + base64.b64encode(b"\x00" * 33).decode() + "\n",
        "origin\n5\n" + GOOD_ROOT + "\n\n",
        "origin\n5\n" + GOOD_ROOT + "\next\n\n",
        "origin\n5\n" + GOOD_ROOT + "\n\next\n",
        "origin\r\n5\r\n" + GOOD_ROOT + "\r\n",
        "ori\x00gin\n5\n" + GOOD_ROOT + "\n",
        "origin\n5\n" + GOOD_ROOT + "\next\x1b\n",
    ],
)
def test_malformed_bodies_parse_to_none(body: str) -> None:
    assert parse_checkpoint(body) is None


@pytest.mark.parametrize(
    "fields",
    [
        ("", 0, b"\x00" * 32, ()),
        ("two\nlines", 0, b"\x00" * 32, ()),
        ("origin", -1, b"\x00" * 32, ()),
        ("origin", 2**64, b"\x00" * 32, ()),
        ("origin", True, b"\x00" * 32, ()),
        ("origin", "5", b"\x00" * 32, ()),
        ("origin", 0, b"\x00" * 31, ()),
        ("origin", 0, "\x00" * 32, ()),
        ("origin", 0, b"\x00" * 32, ("",)),
        ("origin", 0, b"\x00" * 32, ("a\nb",)),
        ("origin", 0, b"\x00" * 32, ["list"]),
    ],
)
def test_checkpoints_that_cannot_be_written_cannot_be_built(fields: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match=r"origin|size|root|extensions"):
        Checkpoint(*fields)


def test_go_signed_tree_heads_verify() -> None:
    for note, size in [(SUMDB_TREE_5, 5), (SUMDB_TREE_6, 6)]:
        checkpoint = verify_checkpoint(note, SUMDB, origin="go.sum database tree")
        assert checkpoint is not None
        assert checkpoint.size == size
        assert verify_checkpoint(note, SUMDB) == checkpoint


def test_verify_checkpoint_needs_the_right_origin_key_and_body() -> None:
    assert verify_checkpoint(SUMDB_TREE_6, SUMDB, origin="go.sum database tree!") is None
    assert verify_checkpoint(SUMDB_TREE_6, SUMDB, origin="") is None
    assert verify_checkpoint(SUMDB_TREE_6, PETER) is None
    assert verify_checkpoint(SUMDB_TREE_6.replace("tree\n6", "tree\n7"), SUMDB) is None
    assert verify_checkpoint(TEXT + "\n" + PETER_SIG, PETER) is None  # signed, not a checkpoint
    checkpoint = Checkpoint("city.example/log", 42, leaf_hash(b"x"), ("note",))
    note = sign_note(checkpoint.text(), FRESH.name, FRESH_KEY)
    assert verify_checkpoint(note, FRESH, origin="city.example/log") == checkpoint
    assert verify_checkpoint(note, FRESH, origin="city.example/other") is None


@pytest.mark.parametrize("note", [None, b"bytes", 7, "", "garbage", "\udc80"])
def test_verify_checkpoint_never_raises(note: Any) -> None:
    assert verify_checkpoint(note, SUMDB) is None


def test_a_signature_line_holds_a_key_hash_and_at_least_one_byte() -> None:
    """Lines of unknown keys are skipped, but only once they are read as signature lines."""
    good = TEXT + "\n" + PETER_SIG
    four = "— Stranger " + base64.b64encode(b"\x01\x02\x03\x04").decode() + "\n"
    five = "— Stranger " + base64.b64encode(b"\x01\x02\x03\x04\x05").decode() + "\n"
    assert open_note(good + four, [PETER]) is None
    assert open_note(good + five, [PETER]) == TEXT


def test_sizes_up_to_2_64_minus_1() -> None:
    root = base64.b64encode(bytes(32)).decode()
    largest = parse_checkpoint(f"origin\n{2**64 - 1}\n{root}\n")
    assert largest is not None and largest.size == 18_446_744_073_709_551_615
    assert parse_checkpoint(f"origin\n{2**64}\n{root}\n") is None


# -- the time line the city's log adds ---------------------------------------------------------

SIGNED = datetime(2026, 12, 1, 16, 34, 23, tzinfo=UTC)


def with_extensions(*extensions: str) -> Checkpoint:
    return Checkpoint("city.example/log", 5, leaf_hash(b"x"), extensions)


def test_the_time_line_says_when_to_the_second_in_utc() -> None:
    assert time_line(SIGNED) == "time 2026-12-01T16:34:23Z"
    beijing = SIGNED.astimezone(timezone(timedelta(hours=8))) + timedelta(microseconds=999_999)
    assert time_line(beijing) == "time 2026-12-01T16:34:23Z"
    assert signed_at(with_extensions(time_line(SIGNED))) == SIGNED
    signed = sign_note(with_extensions(time_line(SIGNED)).text(), FRESH.name, FRESH_KEY)
    checkpoint = verify_checkpoint(signed, FRESH, "city.example/log")
    assert checkpoint is not None and signed_at(checkpoint) == SIGNED


@pytest.mark.parametrize(
    "extensions",
    [
        (),
        ("time 2026-12-01T16:34:23Z", "time 2026-12-01T16:34:23Z"),
        ("time 2026-12-01T16:34:23Z", "another"),
        ("another", "time 2026-12-01T16:34:23Z"),
        ("time 2026-12-01T16:34:23.5Z",),
        ("time 2026-12-01T16:34:23+00:00",),
        ("time 2026-12-01T16:34:23",),
        ("time 2026-12-01 16:34:23Z",),
        ("time 2026-12-01t16:34:23z",),
        ("time  2026-12-01T16:34:23Z",),
        ("Time 2026-12-01T16:34:23Z",),
        ("time 2026-12-01T16:34Z",),
        ("time 20261201T163423Z",),
        ("time 2026-02-30T00:00:00Z",),
        ("time 2026-12-01T24:00:00Z",),
        ("time 2026-12-31T23:59:60Z",),
        ("time 0000-01-01T00:00:00Z",),
        ("time 2026-12-01T16:34:23Z ",),
        ("time ２０２６-12-01T16:34:23Z",),
    ],
)
def test_any_other_time_line_is_none(extensions: tuple[str, ...]) -> None:
    assert signed_at(with_extensions(*extensions)) is None
