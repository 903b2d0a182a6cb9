"""The payment's rules, given events, when a command, then events: paid only once the
provider says so, twice is once, refunds never beyond what was paid; and money itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given as given_input
from hypothesis import strategies as st

from mycity.data import load_fares
from mycity.domain.errors import ErrorCode
from mycity.domain.fare import OPEN_RIDE_HOURS, Fare
from mycity.domain.money import CEILING_FEN, KEY_MAX, KEY_MIN, amount_fen, idempotency_key
from mycity.domain.payment import Payment, PaymentStatus, payment_id, refund_id
from mycity.domain.personal import personal_of
from mycity.usecases.payments import description_text
from tests.domain_helpers import fact, given, refused, then

PAYER = uuid4()


def requested(amount: int = 1250, **changes: Any) -> Any:
    return fact(
        Payment.Requested,
        **{
            "kind": "TILL",
            "payer": PAYER,
            "payee": "merchant:shop-1",
            "payee_name": "Shop",
            "amount_fen": amount,
            "description": "Tea",
            "place": "till",
            "paying_for": "",
            "request": "r1",
            "requested_by": "shop-1",
            "requested_at": "2026-12-06T13:00:00+00:00",
        }
        | changes,
    )


def paid(amount: int = 1250) -> Any:
    return fact(
        Payment.Succeeded,
        charge="ch_1",
        kind="TILL",
        payee="merchant:shop-1",
        amount_fen=amount,
        settled_at="2026-12-06T13:00:01Z",
    )


def test_a_payment_is_paid_only_when_the_provider_says_so_and_once() -> None:
    payment = given(Payment, requested())
    assert payment.status is PaymentStatus.PENDING
    payment.submitted("ch_1")
    assert then(payment) == [("Submitted", {"charge": "ch_1"})]
    assert payment.succeeded("ch_1", "2026-12-06T13:00:01Z")
    assert then(payment, "payee", "amount_fen") == [
        ("Succeeded", {"payee": "merchant:shop-1", "amount_fen": 1250})
    ]
    assert not payment.succeeded("ch_1", "2026-12-06T13:00:01Z")  # the notification after
    assert not payment.failed("ch_1", "insufficient_funds")
    assert then(payment) == []


def test_a_failed_payment_stays_failed() -> None:
    payment = given(Payment, requested())
    assert payment.failed("ch_1", "insufficient_funds")
    assert then(payment) == [("Failed", {"charge": "ch_1", "failure": "insufficient_funds"})]
    assert not payment.succeeded("ch_1", "2026-12-06T13:00:01Z")
    assert payment.refundable_fen == 0


def test_refunds_up_to_what_was_paid_exactly() -> None:
    payment = given(Payment, requested(1000), paid(1000))
    first, second, third = uuid4(), uuid4(), uuid4()
    payment.request_refund(first, 400, "", "a", "shop-1", "t")
    payment.request_refund(second, 600, "", "b", "shop-1", "t")  # exactly the rest
    assert payment.refundable_fen == 0
    with refused(ErrorCode.REFUND_EXCEEDS_PAYMENT, "amountFen"):
        payment.request_refund(third, 1, "", "c", "shop-1", "t")
    payment.refund_failed(second, "insufficient_funds")  # a failed refund frees its amount
    assert payment.refundable_fen == 600
    payment.refunded(first, "re_1", "t")
    assert payment.refunded_fen == 400
    assert [name for name, _ in then(payment)] == [
        "RefundRequested",
        "RefundRequested",
        "RefundFailed",
        "Refunded",
    ]


def test_a_refund_asked_again_with_its_key_is_the_same_one() -> None:
    payment = given(Payment, requested(1000), paid(1000))
    refund = uuid4()
    payment.request_refund(refund, 300, "", "same", "shop-1", "t")
    again = payment.request_refund(refund, 300, "", "same", "shop-1", "t")
    assert again["amount_fen"] == 300 and payment.refundable_fen == 700
    with refused(ErrorCode.IDEMPOTENCY_KEY_REUSED, "idempotencyKey"):
        payment.request_refund(refund, 301, "", "other", "shop-1", "t")


def test_only_a_paid_payment_is_refunded() -> None:
    with refused(ErrorCode.PAYMENT_NOT_SUCCEEDED):
        given(Payment, requested()).request_refund(uuid4(), 1, "", "a", "shop-1", "t")


def test_ids_come_from_who_asked_and_their_key() -> None:
    assert payment_id("shop-1", "key-0001") == payment_id("shop-1", "key-0001")
    assert payment_id("shop-1", "key-0001") != payment_id("shop-2", "key-0001")
    pid = payment_id("shop-1", "key-0001")
    assert refund_id(pid, "shop-1", "k") != refund_id(pid, "officer", "k")


@pytest.mark.parametrize(
    ("value", "ok"),
    [(1, True), (CEILING_FEN, True), (0, False), (-1, False), (CEILING_FEN + 1, False)],
)
def test_amounts_at_their_bounds(value: int, ok: bool) -> None:
    if ok:
        assert amount_fen(value) == value
    else:
        with refused(ErrorCode.INVALID_AMOUNT, "amountFen"):
            amount_fen(value)


@given_input(
    st.one_of(
        st.floats(allow_nan=True),
        st.booleans(),
        st.text(max_size=5),
        st.none(),
        st.decimals(allow_nan=False),
        st.integers(max_value=0),
        st.integers(min_value=CEILING_FEN + 1),
    )
)
def test_anything_but_a_whole_number_of_fen_in_range_is_refused(value: Any) -> None:
    with refused(ErrorCode.INVALID_AMOUNT):
        amount_fen(value)


@given_input(st.integers(min_value=1, max_value=CEILING_FEN))
def test_every_whole_number_in_range_is_taken(value: int) -> None:
    assert amount_fen(value) == value


def test_a_lower_ceiling_is_kept_at_its_bound() -> None:
    assert amount_fen(100, ceiling=100) == 100
    with refused(ErrorCode.INVALID_AMOUNT):
        amount_fen(101, ceiling=100)


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("a" * (KEY_MIN - 1), False),
        ("a" * KEY_MIN, True),
        ("a" * KEY_MAX, True),
        ("a" * (KEY_MAX + 1), False),
        ("abc def gh", False),
        ("abcdefgh/", False),
        ("AZaz09_-", True),
    ],
)
def test_idempotency_keys_at_their_bounds(key: str, ok: bool) -> None:
    if ok:
        assert idempotency_key(key) == key
    else:
        with refused(ErrorCode.INVALID_IDEMPOTENCY_KEY, "idempotencyKey"):
            idempotency_key(key)


@pytest.mark.parametrize(("length", "ok"), [(0, False), (1, True), (128, True), (129, False)])
def test_a_description_is_1_to_128_characters(length: int, ok: bool) -> None:
    if ok:
        assert description_text("茶" * length) == "茶" * length
    else:
        with refused(ErrorCode.INVALID_ARGUMENT, "description"):
            description_text("茶" * length)


BRT = load_fares().operators["CDBRT"]
IN, OUT = BRT.gates["gate-brt-wulingge"], BRT.gates["gate-brt-liuyehu"]


@pytest.mark.parametrize(
    ("later", "fares"),
    [
        (timedelta(hours=OPEN_RIDE_HOURS), [300]),  # still the same ride: out, 7.5 km
        (timedelta(hours=OPEN_RIDE_HOURS, seconds=1), [400]),  # ended at the highest fare
    ],
)
def test_a_ride_stays_open_for_its_hours_exactly(later: timedelta, fares: list[int]) -> None:
    rider, start = uuid4(), datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
    fare = given(Fare, fact(Fare.Opened, rider=rider, operator="CDBRT", day="2026-12-06"))
    assert fare.tap(BRT, IN, start.isoformat(), deferred=False) == []
    ended = fare.tap(BRT, OUT, (start + later).isoformat(), deferred=False)
    assert [ride.fare_fen for ride in ended] == fares
    assert bool(fare.open_gate) is (fares == [400])  # a new ride begun where it was late


def test_a_snapshot_seals_what_the_events_seal() -> None:
    """A file's snapshot holds its attributes: those its events seal are sealed there too."""
    assert set(personal_of(Payment).fields) == {"description", "place"}  # type: ignore[union-attr]
    assert set(personal_of(Fare).fields) == {"open_station"}  # type: ignore[union-attr]
