"""Identity and document number formats: USCC, resident id, credentials, account names."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.certification import rules
from handlers.certification.rules import UsccCheck

# Written out from the standards, independently of the implementation.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def reference_uscc(body: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_CHARS[(31 - total % 31) % 31]


def reference_id(body: str) -> str:
    total = sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


# --- USCC (GB 32100-2015) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("91350100M000100Y43", UsccCheck.VALID),
        ("91110000600037341L", UsccCheck.VALID),
        ("91350100M000100Y44", UsccCheck.CHECKSUM_MISMATCH),
        ("91110000600037341M", UsccCheck.CHECKSUM_MISMATCH),
        ("92350100M000100Y43", UsccCheck.CHECKSUM_MISMATCH),
        ("91350100M000100Y4", UsccCheck.MALFORMED),  # 17 characters
        ("91350100M000100Y433", UsccCheck.MALFORMED),  # 19 characters
        ("", UsccCheck.MALFORMED),
        ("91350100m000100y43", UsccCheck.MALFORMED),  # lower case
        ("91350100I000100Y43", UsccCheck.MALFORMED),  # I is not in the charset
        ("91350100O000100Y43", UsccCheck.MALFORMED),  # nor O
        ("91350100S000100Y43", UsccCheck.MALFORMED),  # nor S
        ("91350100V000100Y43", UsccCheck.MALFORMED),  # nor V
        ("91350100Z000100Y43", UsccCheck.MALFORMED),  # nor Z
        ("91A50100M000100Y43", UsccCheck.MALFORMED),  # positions 3-8 must be digits
        ("9135010AM000100Y43", UsccCheck.MALFORMED),
        ("91350100M000100Y4 ", UsccCheck.MALFORMED),
        ("９1350100M000100Y43", UsccCheck.MALFORMED),  # full-width digit
    ],
)
def test_uscc_vectors(code: str, expected: UsccCheck) -> None:
    assert rules.check_uscc(code) is expected


uscc_bodies = st.builds(
    lambda head, division, rest: head + division + rest,
    st.text(USCC_CHARS, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(USCC_CHARS, min_size=9, max_size=9),
)


@given(uscc_bodies)
def test_generated_uscc_passes(body: str) -> None:
    assert rules.check_uscc(reference_uscc(body)) is UsccCheck.VALID


@given(uscc_bodies, st.integers(0, 17), st.sampled_from(USCC_CHARS + "IOSVZa-"))
def test_changing_one_uscc_character_fails(body: str, position: int, char: str) -> None:
    code = reference_uscc(body)
    changed = code[:position] + char + code[position + 1 :]
    if changed != code:
        assert rules.check_uscc(changed) is not UsccCheck.VALID


# --- resident id (GB 11643-1999) ------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("11010519491231002X", True),
        (reference_id("11010520000229123"), True),  # leap day
        ("110105194912310021", False),  # wrong check character
        ("11010519491231002x", False),  # the check X is upper case
        (reference_id("11010519900230123"), False),  # 02-30 does not exist
        (reference_id("11010519901301123"), False),  # month 13
        (reference_id("11010519000229123"), False),  # 1900 was not a leap year
        (reference_id("11010518991231123"), False),  # born before 1900
        (reference_id("11010520210804123"), False),  # born after the submission
        ("1101051949123100", False),  # 16 characters
        ("11010519491231002X0", False),
        ("1101051949123100XX", False),
        ("", False),
    ],
)
def test_resident_id_vectors(number: str, valid: bool) -> None:
    assert rules.check_resident_id(number, as_of=date(2021, 8, 3)) is valid


resident_ids = st.builds(
    lambda region, born, seq: reference_id(f"{region}{born:%Y%m%d}{seq}"),
    st.text("0123456789", min_size=6, max_size=6),
    st.dates(date(1900, 1, 1), date(2021, 8, 3)),
    st.text("0123456789", min_size=3, max_size=3),
)


@given(resident_ids)
def test_generated_resident_id_passes(number: str) -> None:
    assert rules.check_resident_id(number, as_of=date(2021, 8, 3))


@given(resident_ids, st.integers(0, 17), st.sampled_from("0123456789Xx "))
def test_changing_one_id_character_fails(number: str, position: int, char: str) -> None:
    changed = number[:position] + char + number[position + 1 :]
    if changed != number:
        assert not rules.check_resident_id(changed, as_of=date(2021, 8, 3))


# --- credentials and account names ----------------------------------------------------


@pytest.mark.parametrize(
    ("profession", "number", "valid"),
    [
        ("lawyer", "1" * 17, True),
        ("lawyer", "1" * 12, True),  # legacy format
        ("lawyer", "1" * 15, False),
        ("lawyer", "1" * 16, False),
        ("lawyer", "1" * 18, False),
        ("doctor", "1" * 15, True),
        ("doctor", "1" * 17, False),
        ("doctor", "1" * 12, False),
        ("teacher", "1" * 17, True),
        ("teacher", "1" * 12, False),
        ("teacher", "1" * 15, False),
        ("teacher", "1" * 16 + "X", False),
        ("doctor", "１" * 15, False),  # full-width digits are not digits here
        ("lawyer", "", False),
        ("doctor", "11111111111111\n", False),
    ],
)
def test_credential_formats(profession: rules.Profession, number: str, valid: bool) -> None:
    assert rules.check_credential(profession, number) is valid


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("ab", True),
        ("好店", True),
        ("a" * 24, True),
        ("a", False),
        ("", False),
        ("a" * 25, False),
        ("shop@home", False),
        ("《好店》", False),
        ("a/b", False),
    ],
)
def test_account_names(name: str, valid: bool) -> None:
    assert rules.check_account_name(name) is valid
