"""Expensive fields have a cost: at most 3 QR codes drawn in one request and 30 for one
caller a minute, aliases and fragments counted, refused whole with a typed error."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from mycity.bootstrap import City
from mycity.domain.errors import ErrorCode, Throttled, UserError
from mycity.graphql.costs import drawn
from mycity.identity.costs import PER_CALLER, PER_REQUEST, WINDOW, Costs
from tests.helpers import Api, CitizenFactory


@pytest.mark.parametrize(
    ("document", "variables", "operation", "count"),
    [
        ("{ cityCode(png: true) { payload } }", {}, None, 1),
        ("{ cityCode { payload } }", {}, None, 0),
        ("{ cityCode(png: false) { payload } }", {}, None, 0),
        ("query($p: Boolean!) { cityCode(png: $p) { png } }", {"p": True}, None, 1),
        ("query($p: Boolean!) { cityCode(png: $p) { png } }", {"p": False}, None, 0),
        ("{ a: cityCode(png: true) { png } b: cityCode(png: true) { png } }", {}, None, 2),
        (
            '{ ...F ... on Query { placeCode(place: "x", png: true) { png } } }'
            " fragment F on Query { cityCode(png: true) { png } c: cityCode(png: true) { png } }",
            {},
            None,
            3,
        ),
        (
            'mutation { a: presentLicence(input: {licenceId: "x", fields: [], png: true})'
            ' { payload } b: presentLicence(input: {licenceId: "y", fields: []}) { payload } }',
            {},
            None,
            1,
        ),
        (
            "mutation($i: PresentLicenceInput!) { presentLicence(input: $i) { payload } }",
            {"i": {"licenceId": "x", "fields": [], "png": True}},
            None,
            1,
        ),
        (
            "query A { cityCode(png: true) { png } } query B { me { role } }",
            {},
            "B",
            0,
        ),
        ("{ me { role } }", {}, None, 0),
    ],
)
def test_what_a_request_asks_to_draw(
    document: str, variables: dict[str, Any], operation: str | None, count: int
) -> None:
    assert drawn(parse(document), operation, variables) == count


def test_a_request_draws_at_most_three_and_a_caller_thirty_a_minute(city: City) -> None:
    costs = Costs(city.phone_codes.budgets)
    assert (PER_REQUEST, PER_CALLER, WINDOW) == (3, 30, 60.0)
    with pytest.raises(UserError) as caught:
        costs.charge("someone", PER_REQUEST + 1)
    assert caught.value.code is ErrorCode.TOO_COSTLY and "at most 3" in caught.value.message
    for _ in range(PER_CALLER // PER_REQUEST):
        costs.charge("someone", PER_REQUEST)  # the 30th drawing is the last
    with pytest.raises(Throttled) as throttled:
        costs.charge("someone", 1)
    assert throttled.value.code is ErrorCode.RATE_LIMITED
    assert 0 < throttled.value.retry_after <= 61
    costs.charge("someone else", PER_REQUEST)  # each caller's own


def test_a_refused_request_counts_nothing(city: City) -> None:
    costs = Costs(city.phone_codes.budgets, per_caller=3)
    costs.charge("caller", 2)
    with pytest.raises(Throttled):
        costs.charge("caller", 2)  # 4 > 3: refused, and not counted
    costs.charge("caller", 1)  # exactly 3


CODES = "{ " + " ".join(f"c{i}: cityCode(png: true) {{ png }}" for i in range(4)) + " }"


def test_over_http_too_many_drawings_are_refused_before_anything_runs(
    api: Api, city: City, people: CitizenFactory
) -> None:
    token = city.tokens.access_token(people.register("码").principal)
    three = CODES.replace(" c3: cityCode(png: true) { png }", "")
    assert all(code["png"] for code in api.run(three, token=token).values())
    [error] = api.errors(CODES, token=token)
    assert error["extensions"]["code"] == "TOO_COSTLY"
    assert "at most 3" in error["message"]
    for _ in range(PER_CALLER // PER_REQUEST - 1):
        api.run(three, token=token)
    [error] = api.errors("{ cityCode(png: true) { png } }", token=token)
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert int(error["extensions"]["retryAfterSeconds"]) > 0
    assert api.run("{ cityCode { payload } }", token=token)["cityCode"]["payload"]  # no png
