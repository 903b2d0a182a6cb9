"""Transit fare rules as data (`data/fares/<operator>.json`), checked whole at start-up.

Each operator charges either a flat fare at the gate, or by distance: the rider taps in and
out, and the fare is the first band whose distance covers the ride (stations are placed by
metres along the line). A ride left open (no tap-out before the next tap-in, or by the end
of the day) is charged the highest band. What one rider pays one operator in a day never
exceeds its daily cap: the ride that reaches it is charged only the rest, and later rides
nothing. All amounts are whole fen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_FARE_FEN = 100_000  # 1,000 yuan: no ride costs that
_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class FareError(ValueError):
    """A fares file is not valid: `file: where: problem`."""


@dataclass(frozen=True)
class Band:
    up_to_m: int | None  # None: any longer ride
    fen: int


@dataclass(frozen=True)
class Gate:
    client: str  # the gate's partner client id
    station: str
    m: int  # where the station is along the line, in metres (0 for a flat fare)


@dataclass(frozen=True)
class Operator:
    code: str
    name: str
    daily_cap_fen: int
    flat_fen: int | None  # a flat fare, charged at the gate; else by distance
    bands: tuple[Band, ...]
    gates: Mapping[str, Gate]

    @property
    def payee(self) -> str:
        """Its account at the payment provider."""
        return f"transit:{self.code}"

    @property
    def by_distance(self) -> bool:
        return self.flat_fen is None

    @property
    def highest_fen(self) -> int:
        """An open ride's fare: the flat fare, or the highest band."""
        return self.flat_fen if self.flat_fen is not None else max(b.fen for b in self.bands)

    def fare(self, tapped_in: Gate, tapped_out: Gate) -> int:
        if self.flat_fen is not None:
            return self.flat_fen
        distance = abs(tapped_out.m - tapped_in.m)
        for band in self.bands:
            if band.up_to_m is None or distance <= band.up_to_m:
                return band.fen
        raise AssertionError("the last band covers any distance")  # checked at start-up


@dataclass(frozen=True)
class FareRules:
    operators: Mapping[str, Operator]

    def gate(self, client: str) -> tuple[Operator, Gate] | None:
        """The operator and station of a gate, if it charges fares."""
        for operator in self.operators.values():
            if client in operator.gates:
                return operator, operator.gates[client]
        return None


def parse_fares(documents: Mapping[str, Any]) -> FareRules:
    """Every operator's file, checked whole: an unknown field, a missing one, a gate in two
    operators' files, bands out of order or without a last open band are refused."""
    operators: dict[str, Operator] = {}
    gates: dict[str, str] = {}
    for file, raw in sorted(documents.items()):
        operator = _operator(file, raw)
        if operator.code in operators:
            raise FareError(f"{file}: operator: {operator.code} is in another file too")
        for client in operator.gates:
            if client in gates:
                raise FareError(f"{file}: gates: {client} is also {gates[client]}'s")
            gates[client] = operator.code
        operators[operator.code] = operator
    return FareRules(operators)


def _operator(file: str, raw: Any) -> Operator:
    def fail(where: str, problem: str) -> FareError:
        return FareError(f"{file}: {where}: {problem}")

    fields = {"operator", "name", "daily_cap_fen", "fare", "gates"}
    if not isinstance(raw, dict) or set(raw) != fields:
        raise fail("operator", f"give exactly {', '.join(sorted(fields))}")
    code = raw["operator"]
    if not isinstance(code, str) or not 2 <= len(code) <= 16 or not set(code) <= _CODE_CHARS:
        raise fail("operator", "a code of 2 to 16 of A-Z 0-9 _")
    if not isinstance(raw["name"], str) or not 1 <= len(raw["name"]) <= 64:
        raise fail("name", "1 to 64 characters")
    cap = _fen(raw["daily_cap_fen"], fail, "daily_cap_fen")
    fare = raw["fare"]
    if not isinstance(fare, dict) or len(fare) != 1 or not {"flat_fen", "bands"} & set(fare):
        raise fail("fare", "either flat_fen or bands")
    flat = _fen(fare["flat_fen"], fail, "fare.flat_fen") if "flat_fen" in fare else None
    bands = () if flat is not None else _bands(fare["bands"], fail)
    if not isinstance(raw["gates"], list) or not raw["gates"]:
        raise fail("gates", "a list of at least one gate")
    found: dict[str, Gate] = {}
    for n, gate in enumerate(raw["gates"], start=1):
        parsed = _gate(gate, flat is not None, lambda p, n=n: fail(f"gates[{n}]", p))
        if parsed.client in found:
            raise fail(f"gates[{n}]", f"{parsed.client} is listed twice")
        found[parsed.client] = parsed
    return Operator(code, raw["name"], cap, flat, bands, found)


def _fen(value: Any, fail: Any, where: str) -> int:
    if type(value) is not int or not 1 <= value <= MAX_FARE_FEN:
        raise fail(where, f"a whole number of fen from 1 to {MAX_FARE_FEN}")
    return value


def _bands(raw: Any, fail: Any) -> tuple[Band, ...]:
    if not isinstance(raw, list) or not raw:
        raise fail("fare.bands", "a list of at least one band")
    bands: list[Band] = []
    for n, band in enumerate(raw, start=1):
        where = f"fare.bands[{n}]"
        if not isinstance(band, dict) or set(band) != {"up_to_m", "fen"}:
            raise fail(where, "give exactly up_to_m and fen")
        up_to = band["up_to_m"]
        last = n == len(raw)
        if last and up_to is not None:
            raise fail(where, "the last band is open: up_to_m null")
        if not last and (type(up_to) is not int or up_to < 1):
            raise fail(where, "up_to_m is a whole number of metres, 1 or more")
        if bands and not last and up_to <= bands[-1].up_to_m:
            raise fail(where, "bands go from the shortest ride to the longest")
        bands.append(Band(up_to, _fen(band["fen"], fail, f"{where}.fen")))
    return tuple(bands)


def _gate(raw: Any, flat: bool, fail: Any) -> Gate:
    expected = {"client", "station"} if flat else {"client", "station", "m"}
    if not isinstance(raw, dict) or set(raw) != expected:
        raise fail(f"give exactly {', '.join(sorted(expected))}")
    client, station = raw["client"], raw["station"]
    if not isinstance(client, str) or not 3 <= len(client) <= 64:
        raise fail("client is the gate's client id")
    if not isinstance(station, str) or not 1 <= len(station) <= 64:
        raise fail("station is 1 to 64 characters")
    m = raw.get("m", 0)
    if type(m) is not int or not 0 <= m <= 1_000_000:
        raise fail("m is whole metres from 0 to 1,000,000")
    return Gate(client, station, m)
