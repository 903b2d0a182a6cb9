"""National identifiers against vectors computed here, independently of the code under test."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.identifiers import (
    CREDIT_CODE_ALPHABET,
    mask_id_number,
    mask_phone,
    validate_credit_code,
    validate_phone,
    validate_resident_id,
)

# -- reference implementations ---------------------------------------------------------------


def ref_id_check(first17: str) -> str:
    """ISO 7064 MOD 11-2, written from the standard: the check value c is chosen so that
    sum(a_i * 2^(i-1)) ≡ 1 (mod 11) over positions i = 18..1, the check at position 1."""
    assert len(first17) == 17
    assert first17.isascii()
    assert first17.isdigit()
    total = sum(int(d) * 2 ** (18 - position) for position, d in enumerate(first17, start=1))
    value = (1 - total) % 11
    return "X" if value == 10 else str(value)


def ref_id(first17: str) -> str:
    return first17 + ref_id_check(first17)


REF_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z


def ref_org_check(first8: str) -> str:
    """GB 11714: 11 - (sum mod 11) with weights 3,7,9,10,5,8,4,2; A=10 .. Z=35."""
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in first8]
    value = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def ref_credit_check(first17: str) -> str:
    """GB 32100: weights 3^(i-1) mod 31; 31 - (sum mod 31), with 31 written as 0."""
    total = sum(REF_ALPHABET.index(c) * (3 ** (i - 1) % 31) for i, c in enumerate(first17, start=1))
    value = 31 - total % 31
    return REF_ALPHABET[0 if value == 31 else value]


def ref_credit_code(prefix8: str, org8: str) -> str:
    """A credit code from its first 8 characters and an organisation code body."""
    first17 = prefix8 + org8 + ref_org_check(org8)
    return first17 + ref_credit_check(first17)


def test_reference_implementations_reproduce_published_examples() -> None:
    assert ref_id("11010519491231002") == "11010519491231002X"
    assert ref_org_check("M000100Y") == "4"
    assert ref_credit_check("91350100M000100Y4") == "3"


# -- resident ID numbers (GB 11643-1999) -------------------------------------------------------

PUBLISHED_ID = "11010519491231002X"

VALID_IDS = [
    PUBLISHED_ID,
    ref_id("44030419900307123"),
    ref_id("31011519851120001"),
    ref_id("51010720000229456"),  # born on a leap day
    ref_id("65010219491001000"),
    ref_id("81000020101010999"),
    ref_id("37028319700101357"),
    ref_id("21010218500101001"),  # 1850: the earliest year accepted
]


def test_the_valid_vectors_cover_digit_and_x_check_characters() -> None:
    checks = {number[-1] for number in VALID_IDS}
    assert "X" in checks
    assert checks - {"X"}


@pytest.mark.parametrize("number", VALID_IDS)
def test_valid_resident_ids_are_accepted_unchanged(number: str) -> None:
    assert validate_resident_id(number) == number


def test_a_lower_case_x_is_accepted_and_normalised() -> None:
    assert validate_resident_id("11010519491231002x") == PUBLISHED_ID


def test_surrounding_whitespace_is_dropped() -> None:
    assert validate_resident_id(f"  {PUBLISHED_ID}\n") == PUBLISHED_ID


def _error(validate, raw: str, **kwargs) -> UserError:
    with pytest.raises(UserError) as caught:
        validate(raw, **kwargs)
    return caught.value


def _outcome(validate, raw: str) -> str | ErrorCode:
    """What validation makes of the input: the canonical value, or the error's code."""
    try:
        return validate(raw)
    except UserError as e:
        return e.code


@pytest.mark.parametrize("wrong", [c for c in "0123456789X" if c != PUBLISHED_ID[-1]])
def test_every_wrong_check_character_is_refused(wrong: str) -> None:
    error = _error(validate_resident_id, PUBLISHED_ID[:17] + wrong)
    assert error.code is ErrorCode.CHECK_CHARACTER_MISMATCH


DIGIT_CHECKED_ID = ref_id("44030419900307123")


@pytest.mark.parametrize("wrong", [c for c in "0123456789X" if c != DIGIT_CHECKED_ID[-1]])
def test_every_wrong_check_character_of_a_digit_checked_number_is_refused(wrong: str) -> None:
    error = _error(validate_resident_id, DIGIT_CHECKED_ID[:17] + wrong)
    assert error.code is ErrorCode.CHECK_CHARACTER_MISMATCH


@pytest.mark.parametrize(
    "birth",
    [
        "19901301",  # month 13
        "19900001",  # month 0
        "19900100",  # day 0
        "19900431",  # 31 April
        "19900230",  # 30 February
        "20230229",  # 29 February in a common year
        "19000229",  # 1900 is not a leap year (divisible by 100, not by 400)
        "00000101",  # year 0
        "18491231",  # before 1850
    ],
)
def test_impossible_birth_dates_are_refused(birth: str) -> None:
    error = _error(validate_resident_id, ref_id(f"110105{birth}002"))
    assert error.code is ErrorCode.INVALID_BIRTH_DATE


@pytest.mark.parametrize("birth", ["20000229", "19960229", "20240229"])
def test_29_february_in_a_leap_year_is_a_birth_date(birth: str) -> None:
    number = ref_id(f"110105{birth}002")
    assert validate_resident_id(number) == number


def test_a_birth_date_after_today_is_refused() -> None:
    error = _error(validate_resident_id, ref_id("11010520200102002"), today=date(2020, 1, 1))
    assert error.code is ErrorCode.BIRTH_DATE_IN_FUTURE


def test_a_child_born_today_may_be_registered() -> None:
    number = ref_id("11010520200101002")
    assert validate_resident_id(number, today=date(2020, 1, 1)) == number


@pytest.mark.parametrize(
    "raw",
    [
        "",
        PUBLISHED_ID[:17],  # 17 characters
        PUBLISHED_ID + "0",  # 19 characters
        "110105491231002",  # a first-generation 15-digit number
        "11010519491231002Y",  # a letter other than X
        "1101051949123100X2",  # X not in last place
        "A1010519491231002X",
        "110105 19491231002X",
        ref_id("01010519491231002"),  # area codes start 1 to 8
        ref_id("91010519491231002"),
    ],
)
def test_malformed_id_numbers_are_refused(raw: str) -> None:
    assert _error(validate_resident_id, raw).code is ErrorCode.INVALID_ID_NUMBER


@pytest.mark.parametrize(
    "first17",
    [
        "43082119800101001",  # an abolished county code
        "81234519800101001",  # a made-up code
        "19999919800101001",
    ],
)
def test_area_codes_are_not_checked_against_todays_tables(first17: str) -> None:
    number = ref_id(first17)
    assert validate_resident_id(number) == number


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def test_non_ascii_digits_are_refused_or_normalised() -> None:
    fullwidth = PUBLISHED_ID.translate(FULLWIDTH)
    assert _outcome(validate_resident_id, fullwidth) in {ErrorCode.INVALID_ID_NUMBER, PUBLISHED_ID}


TODAY = date(2030, 6, 30)


@settings(max_examples=300)
@given(
    area=st.integers(min_value=100000, max_value=899999),
    born=st.dates(min_value=date(1850, 1, 1), max_value=TODAY),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_the_computed_check_character_and_only_it_validates(
    area: int, born: date, sequence: int
) -> None:
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    check = ref_id_check(first17)
    assert validate_resident_id(first17 + check, today=TODAY) == first17 + check
    for other in "0123456789X":
        if other != check:
            error = _error(validate_resident_id, first17 + other, today=TODAY)
            assert error.code is ErrorCode.CHECK_CHARACTER_MISMATCH


# -- unified social credit codes (GB 32100-2015) -----------------------------------------------

PUBLISHED_CREDIT_CODE = "91350100M000100Y43"

VALID_CREDIT_CODES = [
    PUBLISHED_CREDIT_CODE,
    ref_credit_code("91110000", "80000001"),
    ref_credit_code("91440300", "MA5DCXYT"),
    ref_credit_code("12100000", "40001234"),
    ref_credit_code("52310115", "HJKLMNPQ"),
    ref_credit_code("Y1330106", "00000000"),
    ref_credit_code("93610000", "UWXY0123"),
]


# Organisation codes whose GB 11714 check is the special case 10 (X) or 11 (0).
ORG_CHECKED_X = ref_credit_code("91110000", "40000000")
ORG_CHECKED_0 = ref_credit_code("91110000", "00000000")


def test_the_special_organisation_checks_are_x_and_0() -> None:
    assert ORG_CHECKED_X[16] == "X"
    assert ORG_CHECKED_0[16] == "0"


EXTRA_CREDIT_CODES = [ORG_CHECKED_X, ORG_CHECKED_0]


@pytest.mark.parametrize("code", VALID_CREDIT_CODES + EXTRA_CREDIT_CODES)
def test_valid_credit_codes_are_accepted_unchanged(code: str) -> None:
    assert len(code) == 18
    assert validate_credit_code(code) == code


def test_a_lower_case_credit_code_is_normalised() -> None:
    assert validate_credit_code(" 91350100m000100y43 ") == PUBLISHED_CREDIT_CODE


@pytest.mark.parametrize("wrong", [c for c in REF_ALPHABET if c != PUBLISHED_CREDIT_CODE[-1]])
def test_every_wrong_final_check_character_is_refused(wrong: str) -> None:
    error = _error(validate_credit_code, PUBLISHED_CREDIT_CODE[:17] + wrong)
    assert error.code is ErrorCode.CHECK_CHARACTER_MISMATCH


@pytest.mark.parametrize("code", VALID_CREDIT_CODES)
def test_a_wrong_organisation_check_is_refused_even_when_the_final_check_is_right(
    code: str,
) -> None:
    for wrong in "0123456789X":
        if wrong == code[16]:
            continue
        first17 = code[:16] + wrong
        forged = first17 + ref_credit_check(first17)
        error = _error(validate_credit_code, forged)
        assert error.code is ErrorCode.ORGANIZATION_CODE_MISMATCH, forged


@pytest.mark.parametrize("letter", "IOSVZ")
@pytest.mark.parametrize("position", [0, 1, 9, 15, 17])
def test_letters_outside_the_alphabet_are_refused(letter: str, position: int) -> None:
    code = PUBLISHED_CREDIT_CODE[:position] + letter + PUBLISHED_CREDIT_CODE[position + 1 :]
    assert _error(validate_credit_code, code).code is ErrorCode.INVALID_CREDIT_CODE


@pytest.mark.parametrize(
    "raw",
    [
        "",
        PUBLISHED_CREDIT_CODE[:17],
        PUBLISHED_CREDIT_CODE + "0",
        "M000100Y4",  # a bare organisation code
        "91350100-M000100Y43",
        "9135 0100M000100Y43",
    ],
)
def test_credit_codes_of_the_wrong_shape_are_refused(raw: str) -> None:
    assert _error(validate_credit_code, raw).code is ErrorCode.INVALID_CREDIT_CODE


def test_characters_3_to_8_must_be_digits() -> None:
    code = ref_credit_code("91A50100", "M000100Y")
    assert _error(validate_credit_code, code).code is ErrorCode.INVALID_CREDIT_CODE


def test_every_organisation_check_character_can_appear_in_a_credit_code() -> None:
    """GB 11714 checks are 0-9 and X; all of them are in the GB 32100 alphabet."""
    produced = {ref_org_check(f"{n:08d}") for n in range(200)}
    assert produced == set("0123456789X")
    assert produced <= set(CREDIT_CODE_ALPHABET)
    assert set(CREDIT_CODE_ALPHABET) == set(REF_ALPHABET)


_ORG_BODY_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@settings(max_examples=200)
@given(
    head=st.text(REF_ALPHABET, min_size=2, max_size=2),
    area=st.integers(min_value=0, max_value=999999),
    organisation=st.text(_ORG_BODY_ALPHABET, min_size=8, max_size=8),
)
def test_computed_credit_codes_validate(head: str, area: int, organisation: str) -> None:
    code = ref_credit_code(f"{head}{area:06d}", organisation)
    assert validate_credit_code(code) == code
    assert validate_credit_code(code.lower()) == code


# -- phones and masks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("19912345678", "19912345678"),
        ("+8613800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        (" 13800138000 ", "13800138000"),
    ],
)
def test_valid_phones_are_normalised_to_11_digits(raw: str, expected: str) -> None:
    assert validate_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "1380013800",  # 10 digits
        "138001380000",  # 12 digits
        "12800138000",  # second digit 2
        "10800138000",
        "23800138000",  # does not start with 1
        "010-12345678",  # a landline
        "+1 13800138000",
        "1380013800a",
        "+86",
    ],
)
def test_invalid_phones_are_refused(raw: str) -> None:
    assert _error(validate_phone, raw).code is ErrorCode.INVALID_PHONE


def test_phones_with_non_ascii_digits_are_refused_or_normalised() -> None:
    fullwidth = "138" + "00138000".translate(FULLWIDTH)
    assert _outcome(validate_phone, fullwidth) in {ErrorCode.INVALID_PHONE, "13800138000"}


def test_an_id_number_is_masked_but_for_its_first_3_and_last_4_characters() -> None:
    assert mask_id_number(PUBLISHED_ID) == "110***********002X"
    assert len(mask_id_number(PUBLISHED_ID)) == 18


def test_a_phone_is_masked_but_for_its_first_3_and_last_4_digits() -> None:
    assert mask_phone("13800138000") == "138****8000"
