"""The health authority's feed over HTTP and the CLI, against the demo city."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mycity.bootstrap import City
from mycity.cli import cli
from mycity.demo import CITIZENS
from mycity.domain.code_holder import CardKind, Colour
from tests.helpers import Api

SET = """mutation($i: SetHealthStatusInput!) { setHealthStatus(input: $i) {
  recorded userErrors { code field } } }"""
IMPORT = """mutation($t: String!) { importHealthStatuses(input: {text: $t, format: CSV}) {
  changed unchanged failures { line code field } userErrors { code } } }"""
LINK = """mutation($i: LinkCardInput!) { linkCard(input: $i) { recorded userErrors { code } } }"""


def test_the_health_feed_sets_imports_and_links(
    api: Api, city: City, demo: dict[str, dict[str, str]]
) -> None:
    feed = api.log_in_client("feed-health", demo["feed-health"]["secret"])
    first, second = CITIZENS[0], CITIZENS[1]
    done = api.run(
        SET,
        {"i": {"idNumber": first.id_number, "colour": "YELLOW", "reason": "密接",
               "validUntil": "2099-01-01T00:00:00+08:00"}},
        feed,
    )  # fmt: skip
    assert done["setHealthStatus"] == {"recorded": True, "userErrors": []}
    csv = (
        "id_number,colour,reason,valid_until\n"
        f"{first.id_number},GREEN,解除,\n"
        f"{second.id_number},RED,阳性,2099-01-01T00:00:00+08:00\n"
        "110101199003070000,PURPLE,?,\n"
    )
    imported = api.run(IMPORT, {"t": csv}, feed)["importHealthStatuses"]
    assert (imported["changed"], imported["unchanged"]) == (2, 0)
    assert [f["line"] for f in imported["failures"]] == [4]
    again = api.run(IMPORT, {"t": csv}, feed)["importHealthStatuses"]
    assert (again["changed"], again["unchanged"]) == (0, 2)  # a re-run changes nothing
    linked = api.run(
        LINK, {"i": {"idNumber": first.id_number, "kind": "E_HEALTH", "number": "EH0001"}}, feed
    )["linkCard"]
    assert linked == {"recorded": True, "userErrors": []}
    not_ours = api.run(
        LINK, {"i": {"idNumber": first.id_number, "kind": "LIBRARY", "number": "L1"}}, feed
    )["linkCard"]
    assert not_ours["userErrors"] == [{"code": "FORBIDDEN"}]
    citizen = city.ids.citizen(first.id_number)
    now = city.health.current(citizen)
    assert now is not None and now.colour is Colour.GREEN
    assert now.cards == {CardKind.E_HEALTH: "EH0001", CardKind.LIBRARY: first.library_card}
    anyone = api.log_in_client("venue-hotel-01", demo["venue-hotel-01"]["secret"])
    refused = api.run(SET, {"i": {"idNumber": first.id_number, "colour": "RED",
                                  "reason": "x"}}, anyone)  # fmt: skip
    assert refused["setHealthStatus"]["userErrors"][0]["code"] == "FORBIDDEN"


def test_the_cli_imports_a_file_and_names_the_lines_it_refused(
    city: City, env: dict[str, str], demo: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    file = tmp_path / "statuses.csv"
    file.write_text(
        "id_number,colour,reason,valid_until\n"
        f"{CITIZENS[2].id_number},YELLOW,行程,2099-01-01T00:00:00+08:00\n"
        "not-a-number,RED,?,\n"
    )
    done = CliRunner().invoke(cli, ["health", "import", str(file)], env=env)
    assert done.exit_code == 1
    assert "line 3: INVALID_ID_NUMBER" in done.output
    assert done.output.strip().endswith("1 changed, 0 already so, 1 refused")
    again = CliRunner().invoke(cli, ["health", "import", str(file)], env=env)
    assert again.output.strip().endswith("0 changed, 1 already so, 1 refused")
