"""Transit fares: the rules as data (checked whole, each band at its exact bound), flat and
by distance at the gate, the daily cap, a ride left open, and riding now to pay later
(the nightly bill, and a bill that falls overdue)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mycity.bootstrap import City
from mycity.data import load_fares
from mycity.domain.credit import Severity
from mycity.domain.fare import DUE_DAYS, Fare, fare_day_id
from mycity.domain.fares import FareError, Gate, parse_fares
from mycity.identity.principal import Principal, Role
from mycity.reads import payments as payments_reads
from tests.helpers import CitizenFactory, Person
from tests.payments_helpers import LocalProvider, funded
from tests.services import HEALTH_FEED, settle

BUS = Principal("gate-metro-wuling-01", Role.TRANSIT_GATE, None, "常德公交 武陵阁站闸机")
BRT = {
    station: Principal(f"gate-brt-{station}", Role.TRANSIT_GATE, None, f"BRT {station}")
    for station in ("wulingge", "chaoyang", "liuyehu", "hefu")
}


MARKET = Principal("feed-amr", Role.AUTHORITY_FEED, "AMR", "市场监管局")


def rider(
    city: City, provider: LocalProvider, fen: int = 10_000, pay_later: bool = False
) -> Person:
    """A funded rider; unless they may ride now and pay later (credit good or better, as a
    new citizen's 600 is), one point short of it (599: normal), so they pay at the gate."""
    person = funded(CitizenFactory(city), provider, fen, "乘客")
    if not pay_later:
        change = (person.id_number, None, -1, "R_DOWN", f"降{person.id}", Severity.MINOR)
        city.credits.record_change(MARKET, *change)
    return person


def tap(city: City, gate: Principal, person: Person) -> list[Any]:
    answer, fares = city.transit.tap(gate, city.city_codes.issue(person.principal).payload, "闸机")
    assert answer.ok and answer.told.allowed
    return [(f.fare_fen, f.charged_fen, f.status) for f in fares]


def test_a_flat_fare_is_charged_at_the_gate_up_to_the_daily_cap(
    paying: City, provider: LocalProvider
) -> None:
    person = rider(paying, provider)
    charged = [tap(paying, BUS, person) for _ in range(5)]
    assert charged == [
        [(200, 200, "PAID")],
        [(200, 200, "PAID")],
        [(200, 200, "PAID")],
        [(200, 200, "PAID")],  # 800: the cap, reached exactly
        [(200, 0, "CAPPED")],
    ]
    assert provider.balance("transit:CDBUS") == 800
    assert provider.balance(paying.ids.payer(person.id)) == 10_000 - 800


def test_fares_by_distance_from_tap_in_to_tap_out(paying: City, provider: LocalProvider) -> None:
    person = rider(paying, provider)
    assert tap(paying, BRT["wulingge"], person) == []  # in
    assert tap(paying, BRT["liuyehu"], person) == [(300, 300, "PAID")]  # 7.5 km
    assert tap(paying, BRT["chaoyang"], person) == []
    assert tap(paying, BRT["hefu"], person) == [(400, 400, "PAID")]  # 11.6 km
    assert tap(paying, BRT["hefu"], person) == []
    assert tap(paying, BRT["wulingge"], person) == [(400, 300, "PAID")]  # the cap: 1000
    assert provider.balance("transit:CDBRT") == 1000


def test_a_red_code_opens_no_gate_and_charges_nothing(
    paying: City, provider: LocalProvider
) -> None:
    person = rider(paying, provider)
    paying.health.set_status(HEALTH_FEED, person.id_number, "RED", "密接", None)
    answer, fares = paying.transit.tap(BUS, paying.city_codes.issue(person.principal).payload, "x")
    assert answer.ok and answer.told.allowed is False and fares == []
    assert provider.balance("transit:CDBUS") == 0


def test_riding_now_paying_later_puts_the_day_on_one_bill_charged_at_night(
    paying: City, provider: LocalProvider
) -> None:
    person = rider(paying, provider, pay_later=True)
    assert tap(paying, BUS, person) == [(200, 200, "DEFERRED")]
    assert tap(paying, BUS, person) == [(200, 200, "DEFERRED")]
    assert provider.balance("transit:CDBUS") == 0
    settle(paying)
    [bill] = paying.reads.payments.bills(person.principal, None)
    assert (bill.kind, bill.amount_fen, bill.status) == ("FARE", 400, "UNPAID")
    paying.clock.ahead = timedelta(days=1)
    assert paying.fare_billing.sweep() == 1
    assert provider.balance("transit:CDBUS") == 400
    settle(paying)
    assert paying.reads.payments.bills(person.principal, None) == []
    assert paying.fare_billing.sweep() == 0  # nothing twice


def test_a_day_on_credit_stays_billed_behind_later_days_paid_at_the_gate(
    paying: City, provider: LocalProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bills read the rider's days on credit only: days paid at the gate, however many
    come after, never push an unpaid one out of the list (one day read here, not 100)."""
    monkeypatch.setattr(payments_reads, "MAX_BILLS", 1)
    person = rider(paying, provider, pay_later=True)
    assert tap(paying, BUS, person) == [(200, 200, "DEFERRED")]
    change = (person.id_number, None, -1, "R_DOWN", f"降{person.id}", Severity.MINOR)
    paying.credits.record_change(MARKET, *change)  # 599: from now on paid at the gate
    paying.clock.ahead = timedelta(days=1)
    assert tap(paying, BUS, person) == [(200, 200, "PAID")]
    paying.read_models.catch_up()  # and no night has billed the first day yet
    [bill] = paying.reads.payments.bills(person.principal, None)
    assert (bill.kind, bill.amount_fen, bill.status) == ("FARE", 200, "UNPAID")


def test_a_day_on_credit_stays_owed_behind_a_later_day_whose_bill_was_paid(
    paying: City, provider: LocalProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paid bill takes no place in the list: the older day whose bill failed is the one
    day read (fails when paid bills count toward the limit)."""
    monkeypatch.setattr(payments_reads, "MAX_BILLS", 1)
    person = rider(paying, provider, fen=0, pay_later=True)
    tap(paying, BUS, person)
    tap(paying, BUS, person)  # day 0: 400 on credit
    settle(paying)
    paying.clock.ahead = timedelta(days=1)
    assert paying.fare_billing.sweep() == 1  # nothing in the account: the bill fails
    tap(paying, BUS, person)  # day 1: 200 on credit
    provider.open(paying.ids.payer(person.id), "payer", 300)  # enough for day 1 only
    settle(paying)
    paying.clock.ahead = timedelta(days=2)
    assert paying.fare_billing.sweep() == 2  # day 0 tried again and failing, day 1 paid
    settle(paying)
    [bill] = paying.reads.payments.bills(person.principal, None)
    assert (bill.amount_fen, bill.status) == (400, "FAILED")
    assert provider.balance("transit:CDBUS") == 200


def test_an_unpaid_bill_is_tried_each_night_and_falls_overdue_after_its_days(
    paying: City, provider: LocalProvider
) -> None:
    person = rider(paying, provider, fen=100, pay_later=True)  # less than the day's fares
    tap(paying, BUS, person)
    settle(paying)
    day = paying.reads.payments.bills(person.principal, None)[0].day
    fare_id = fare_day_id(person.id, "CDBUS", day)
    for night in range(1, DUE_DAYS + 1):  # each night until the due day: a new bill
        paying.clock.ahead = timedelta(days=night)
        assert paying.fare_billing.sweep() == 1
        settle(paying)
        assert not paying.files.read(Fare, fare_id).overdue
    paying.clock.ahead = timedelta(days=DUE_DAYS + 1)  # the day after the due day
    assert paying.fare_billing.sweep() == 1
    overdue = paying.files.read(Fare, fare_id)
    assert overdue.overdue and len(overdue.bills) == DUE_DAYS
    settle(paying)
    [bill] = paying.reads.payments.bills(person.principal, None)
    assert bill.status == "OVERDUE"


def test_a_ride_left_open_is_charged_the_highest_fare_at_the_days_end(
    paying: City, provider: LocalProvider
) -> None:
    person = rider(paying, provider)
    tap(paying, BRT["chaoyang"], person)  # in, and never out
    settle(paying)
    paying.clock.ahead = timedelta(days=1)
    assert paying.fare_billing.sweep() == 1
    assert provider.balance("transit:CDBRT") == 400


@pytest.mark.parametrize(
    ("metres", "fen"), [(0, 200), (5000, 200), (5001, 300), (10000, 300), (10001, 400)]
)
def test_each_band_at_its_exact_bound(metres: int, fen: int) -> None:
    operator = load_fares().operators["CDBRT"]
    start, end = Gate("a", "A", 0), Gate("b", "B", metres)
    assert operator.fare(start, end) == operator.fare(end, start) == fen


def brt(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "operator": "X1",
        "name": "线路",
        "daily_cap_fen": 1000,
        "fare": {"bands": [{"up_to_m": 100, "fen": 100}, {"up_to_m": None, "fen": 200}]},
        "gates": [{"client": "gate-x", "station": "站", "m": 0}],
    }
    return base | changes


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (brt(extra=1), "x.json: operator: give exactly"),
        (brt(operator="x"), "x.json: operator: a code"),
        (brt(daily_cap_fen=0), "x.json: daily_cap_fen: a whole number"),
        (brt(daily_cap_fen=2.5), "x.json: daily_cap_fen: a whole number"),
        (brt(fare={"flat_fen": 100, "bands": []}), "x.json: fare: either"),
        (brt(fare={"bands": [{"up_to_m": 100, "fen": 100}]}), "fare.bands[1]: the last band"),
        (
            brt(fare={"bands": [{"up_to_m": 100, "fen": 1}, {"up_to_m": 50, "fen": 2},
                                {"up_to_m": None, "fen": 3}]}),
            "fare.bands[2]: bands go from the shortest",
        ),
        (brt(gates=[]), "x.json: gates: a list"),
        (brt(gates=[{"client": "gate-x", "station": "站"}]), "gates[1]: give exactly"),
        (brt(gates=[{"client": "gate-x", "station": "站", "m": -1}]), "gates[1]: m is whole"),
    ],
)  # fmt: skip
def test_a_bad_fares_file_is_refused_saying_where(raw: dict[str, Any], problem: str) -> None:
    with pytest.raises(FareError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        parse_fares({"x.json": raw})


def test_a_gate_in_two_operators_files_is_refused() -> None:
    with pytest.raises(FareError, match=r"y\.json: gates: gate-x is also X1's"):
        parse_fares({"x.json": brt(), "y.json": brt(operator="Y1")})


def test_the_shipped_fares_parse() -> None:
    fares = load_fares()
    assert set(fares.operators) == {"CDBUS", "CDBRT"}
    assert fares.gate("gate-metro-wuling-01") is not None
    assert fares.gate("gate-test") is None  # a gate the fares do not name only scans
