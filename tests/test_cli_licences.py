"""`mycity licence verify`: what its REFUSED lines say about status lists, and that the
verifiers' reasons are spelt alike by every command."""

from __future__ import annotations

import json
import time
from pathlib import Path

from typer.testing import CliRunner

from mycity.bootstrap import City
from mycity.cli import cli
from mycity.identity.keys import SigningKeyRing, licence_trust_list
from mycity.usecases.licences import PresentationFormat
from mycity.verifier.licence_status import sign_status_list
from tests.helpers import CitizenFactory
from tests.test_cli_codes import city_code
from tests.test_licences import FIELDS, business


def status_list(city: City, issuer: str, valid_until: int) -> str:
    ring = city.keys.licence_signing[issuer]
    return sign_status_list(
        ring.private_key(),
        ring.active_kid,
        issuer=issuer,
        revoked=[],
        suspended=[],
        issued_at=valid_until - 600,
        valid_until=valid_until,
    )


def test_a_status_list_out_of_date_says_to_fetch_it_again(
    city: City, people: CitizenFactory, tmp_path: Path
) -> None:
    founder, licence = business(city, people)
    full = PresentationFormat.FULL  # the format whose status travels in lists
    payload = city.licences.present(founder.principal, licence.id, FIELDS, format=full).payload
    keys, stale, fresh, other = (tmp_path / f for f in ("k.json", "s.json", "f.json", "o.json"))
    keys.write_text(json.dumps(city.licences.trust_list()))
    now = int(time.time())
    stale.write_text(status_list(city, licence.issuer, now - 60))
    fresh.write_text(status_list(city, licence.issuer, now + 60))
    other.write_text(status_list(city, "PSB", now + 60))

    def verify(given: Path) -> tuple[int, str]:
        args = ["licence", "verify", payload, "--keys", str(keys), "--status-list", str(given)]
        result = CliRunner().invoke(cli, args)
        return result.exit_code, result.stdout

    assert verify(stale) == (
        1,
        f"REFUSED: status_stale: the status list of {licence.issuer} is out of date: fetch it "
        f"again (GET /licences/status/{licence.issuer})\n",
    )
    assert verify(other) == (
        1,
        "REFUSED: status_unknown: no status list given says this licence's status: fetch its "
        f"issuer's (GET /licences/status/{licence.issuer}) and pass it with --status-list\n",
    )
    code, shown = verify(fresh)
    assert code == 0 and "; status checked" in shown


def test_unknown_key_is_spelt_alike_by_both_verifiers(
    city: City, people: CitizenFactory, tmp_path: Path
) -> None:
    founder, licence = business(city, people)
    payload = city.licences.present(founder.principal, licence.id, FIELDS).payload
    another = {code: SigningKeyRing.generate() for code in city.keys.licence_signing}
    trust_list = tmp_path / "another-citys-trust-list.json"
    trust_list.write_text(json.dumps(licence_trust_list(another, SigningKeyRing.generate())))
    first = SigningKeyRing.generate()
    code_keys = tmp_path / "another-citys-code-keys.json"  # its one key has index 1, not 0
    code_keys.write_text(json.dumps(first.rotated().retired(first.active_kid).city_code_jwks()))
    runner = CliRunner()
    for args in (
        ["licence", "verify", payload, "--keys", str(trust_list)],
        ["code", "verify", city_code(city), "--keys", str(code_keys)],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 1, result.output
        assert result.stdout.startswith("REFUSED: unknown_key: "), result.stdout
        assert "fetch them again" in result.stdout or "fetch the list again" in result.stdout
