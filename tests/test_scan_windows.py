"""An offline device's scans at the edges of what the server takes (city-code.md, "Offline
batches"): read at most 7 days before the upload and not after it (a clock 30 s ahead is
allowed for), each code checked at the moment it was read, at most 500 scans an upload.
Each window is tried at its exact edge and one moment past it, on a stopped clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mycity.bootstrap import City
from mycity.demo import CITIZENS
from mycity.domain.errors import ErrorCode, UserError
from mycity.usecases.scans import MAX_BATCH, OFFLINE_DAYS, ItemResult, OfflineScan, Outcome
from mycity.verifier.city_code import Purpose, read_code
from tests.conftest import Served
from tests.helpers import Api, CitizenFactory, Person
from tests.services import GATE

UPLOAD_AT = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Beijing
MOMENT = timedelta(microseconds=1)  # the smallest step a scan's time is given in


def issued_at(city: City, person: Person, moment: datetime) -> str:
    """The person's city code as the app drew it at this moment."""
    city.clock.stopped_at = moment
    return city.city_codes.issue(person.principal).payload


def uploaded(city: City, *items: tuple[str, datetime, str]) -> list[ItemResult]:
    """(payload, when it was read, where) uploaded by a gate at UPLOAD_AT."""
    city.clock.stopped_at = UPLOAD_AT
    scans = [OfflineScan(p, Purpose.TRANSIT, place, at) for p, at, place in items]
    return city.scans.upload_offline(GATE, scans)


def outcome(result: ItemResult) -> Outcome | ErrorCode:
    if result.error is not None:
        return result.error.code
    assert result.answer is not None
    return result.answer.outcome


@pytest.fixture
def rider(people: CitizenFactory) -> Person:
    return people.register("乘客")


def test_a_scan_read_7_days_before_the_upload_is_taken_and_a_moment_earlier_is_not(
    city: City, rider: Person
) -> None:
    oldest = UPLOAD_AT - timedelta(days=OFFLINE_DAYS)
    code = issued_at(city, rider, oldest)
    results = uploaded(city, (code, oldest, "1路"), (code, oldest - MOMENT, "2路"))
    assert [outcome(r) for r in results] == [Outcome.VALID, ErrorCode.INVALID_TIME]
    assert results[1].error is not None and results[1].error.field == "scannedAt"


def test_a_scan_read_after_the_upload_is_taken_only_within_the_clocks_skew(
    city: City, rider: Person
) -> None:
    code = issued_at(city, rider, UPLOAD_AT)
    ahead = timedelta(seconds=city.scans.skew)  # the device's clock may run 30 s fast
    results = uploaded(
        city,
        (code, UPLOAD_AT, "1路"),
        (code, UPLOAD_AT + ahead, "2路"),
        (code, UPLOAD_AT + ahead + MOMENT, "3路"),
    )
    assert [outcome(r) for r in results] == [Outcome.VALID, Outcome.VALID, ErrorCode.INVALID_TIME]


def test_the_time_of_a_scan_in_another_zone_is_the_same_moment(city: City, rider: Person) -> None:
    oldest = UPLOAD_AT - timedelta(days=OFFLINE_DAYS)
    code = issued_at(city, rider, oldest)
    beijing = oldest.astimezone(ZoneInfo("Asia/Shanghai"))
    [taken] = uploaded(city, (code, beijing, "1路"))
    assert outcome(taken) is Outcome.VALID
    naive = OfflineScan(code, Purpose.TRANSIT, "2路", UPLOAD_AT.replace(tzinfo=None))
    [refused] = city.scans.upload_offline(GATE, [naive])
    assert refused.error is not None and refused.error.code is ErrorCode.INVALID_TIME


def test_each_code_is_checked_at_the_moment_it_was_read_within_its_life_and_skew(
    city: City, rider: Person
) -> None:
    code = issued_at(city, rider, UPLOAD_AT - timedelta(hours=3))
    signed = read_code(code)
    assert signed is not None
    skew = timedelta(seconds=city.scans.skew)
    first = datetime.fromtimestamp(signed.issued_at, UTC) - skew
    last = datetime.fromtimestamp(signed.expires_at, UTC) + skew
    results = uploaded(
        city,
        (code, first - MOMENT, "1路"),
        (code, first, "2路"),
        (code, last, "3路"),
        (code, last + MOMENT, "4路"),
    )
    assert [outcome(r) for r in results] == [
        Outcome.NOT_YET_VALID,
        Outcome.VALID,
        Outcome.VALID,
        Outcome.EXPIRED,
    ]


def test_a_batch_of_500_is_recorded_whole_and_501_is_refused_recording_nothing(
    city: City, rider: Person
) -> None:
    code = issued_at(city, rider, UPLOAD_AT)
    items = [(code, UPLOAD_AT, f"{n}路") for n in range(MAX_BATCH + 1)]
    head = city.files.head()
    with pytest.raises(UserError) as refused:
        uploaded(city, *items)
    assert (refused.value.code, refused.value.field) == (ErrorCode.TOO_MANY_ITEMS, "scans")
    assert city.files.head() == head
    results = uploaded(city, *items[:MAX_BATCH])
    assert [outcome(r) for r in results] == [Outcome.VALID] * MAX_BATCH
    assert not any(r.answer and r.answer.duplicate for r in results)
    assert city.files.head() == head + MAX_BATCH


UPLOAD = """mutation($s: [OfflineScanInput!]!) { uploadOfflineScans(input: {scans: $s}) {
  recorded userErrors { code field } results { index } } }"""


def test_over_http_500_scans_are_recorded_and_501_get_one_clear_error(
    api: Api, served: Served, demo: dict[str, dict[str, str]]
) -> None:
    gate = api.log_in_client("gate-metro-wuling-01", demo["gate-metro-wuling-01"]["secret"])
    wang = api.log_in_citizen(CITIZENS[0].phone)["accessToken"]
    payload = api.run("{ cityCode { payload } }", token=wang)["cityCode"]["payload"]
    now = datetime.now(UTC).isoformat()

    def batch(n: int) -> list[dict[str, Any]]:
        return [
            {"payload": payload, "purpose": "TRANSIT", "place": f"{i}路", "scannedAt": now}
            for i in range(n)
        ]

    too_many = api.run(UPLOAD, {"s": batch(MAX_BATCH + 1)}, gate)["uploadOfflineScans"]
    assert too_many == {
        "recorded": 0,
        "userErrors": [{"code": "TOO_MANY_ITEMS", "field": "scans"}],
        "results": [],
    }
    whole = api.run(UPLOAD, {"s": batch(MAX_BATCH)}, gate)["uploadOfflineScans"]
    assert (whole["recorded"], whole["userErrors"]) == (MAX_BATCH, [])
    assert [r["index"] for r in whole["results"]] == list(range(MAX_BATCH))
