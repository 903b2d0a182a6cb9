"""The phone-code budget, as an attacker meets it (identity/phone_codes.py sets it out)."""

from __future__ import annotations

import pytest

from mycity.bootstrap import City
from mycity.domain.errors import ErrorCode, Throttled
from tests.domain_helpers import refused
from tests.helpers import Api, last_code, phone

ASK = (
    "mutation($p: String!) { requestPhoneCode(input: {phone: $p}) "
    "{ retryAfterSeconds userErrors { code field } } }"
)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def guess_wrong_until_locked_out(city: City, mobile: str, origin: str) -> None:
    """Spend the phone's hourly budget of wrong guesses, asking a new code each time."""
    budget = city.settings.phone_codes
    for _ in range(budget.failures_per_hour // budget.attempts):
        city.phone_codes.send(mobile, origin)
        code = last_code(city.sms, mobile)
        for _ in range(budget.attempts):
            with refused(ErrorCode.CODE_INVALID):
                city.phone_codes.verify(mobile, wrong(code), origin)


def test_wrong_guesses_count_per_phone_across_new_codes(city: City) -> None:
    mobile = phone()
    guess_wrong_until_locked_out(city, mobile, "attacker")
    city.phone_codes.send(mobile, "owner")
    with pytest.raises(Throttled) as caught:  # even the right code, from anyone
        city.phone_codes.verify(mobile, last_code(city.sms, mobile), "owner")
    assert caught.value.code is ErrorCode.TOO_MANY_ATTEMPTS
    assert 3500 < caught.value.retry_after <= 3601  # it says when to come back


def test_an_attackers_guesses_do_not_burn_the_holders_code(city: City) -> None:
    mobile = phone()
    city.phone_codes.send(mobile, "attacker")  # the attacker asks, the holder gets the SMS
    code = last_code(city.sms, mobile)
    for _ in range(city.settings.phone_codes.attempts):
        with refused(ErrorCode.CODE_INVALID):
            city.phone_codes.verify(mobile, wrong(code), "attacker")
    with refused(ErrorCode.TOO_MANY_ATTEMPTS):
        city.phone_codes.verify(mobile, code, "attacker")
    city.phone_codes.verify(mobile, code, "holder")


def test_one_phone_gets_a_few_codes_an_hour(city: City) -> None:
    mobile, budget = phone(), city.settings.phone_codes
    for n in range(budget.sends_per_hour):
        city.phone_codes.send(mobile, f"client-{n}")
    with refused(ErrorCode.RATE_LIMITED, "phone"):
        city.phone_codes.send(mobile, "another client")
    assert len(city.sms.messages(mobile)) == budget.sends_per_hour  # type: ignore[attr-defined]


def test_one_client_asks_codes_for_a_few_phones(city: City) -> None:
    for _ in range(city.settings.phone_codes.sends_per_address):
        city.phone_codes.send(phone(), "10.1.2.3")
    with refused(ErrorCode.RATE_LIMITED, "phone"):
        city.phone_codes.send(phone(), "10.1.2.3")
    city.phone_codes.send(phone(), "10.9.9.9")  # another client is not held up


def test_a_refused_request_says_when_to_ask_again(api: Api, city: City) -> None:
    mobile = phone()
    for _ in range(city.settings.phone_codes.sends_per_hour):
        assert api.run(ASK, {"p": mobile})["requestPhoneCode"]["userErrors"] == []
    answer = api.run(ASK, {"p": mobile})["requestPhoneCode"]
    assert answer["userErrors"] == [{"code": "RATE_LIMITED", "field": "phone"}]
    assert 3500 < answer["retryAfterSeconds"] <= 3601
