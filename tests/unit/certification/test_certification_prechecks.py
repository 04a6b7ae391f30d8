"""The formats the JSON Schemas publish in `x-businessChecks` (schema/certification.py) are
the pre-checks' formats (handlers/certification/rules.py): evaluated as a publisher's
validator would (jsonschema_rs), each pattern accepts exactly what the rule's format
accepts, over the same samples."""

import random
from datetime import date

import jsonschema_rs
import pytest

from handlers.certification.rules import (
    USCC_CHARSET,
    Profession,
    UsccCheck,
    check_account_name,
    check_credential,
    check_resident_id,
    check_uscc,
    compute_id_check_char,
    compute_uscc_check_char,
)
from schema.certification import (
    ACCOUNT_NAME_FORMAT,
    CREDENTIAL_FORMATS,
    RESIDENT_ID_FORMAT,
    USCC_FORMAT,
    CertificationSubmitted,
)

SEED = 20210803
AS_OF = date(2021, 8, 3)
FULL_WIDTH_DIGIT = "１"
ARABIC_INDIC_DIGIT = "٣"


def matches(pattern: str, value: str) -> bool:
    return bool(jsonschema_rs.is_valid({"type": "string", "pattern": pattern}, value))


def digit_strings() -> list[str]:
    rng = random.Random(SEED)
    found = ["", "0", " " + "1" * 15, "1" * 15 + " ", "1" * 14 + "X", "1" * 14 + "a",
             FULL_WIDTH_DIGIT * 15, ARABIC_INDIC_DIGIT * 17, "1" * 16 + FULL_WIDTH_DIGIT]
    for length in range(8, 21):
        found.append("".join(rng.choice("0123456789") for _ in range(length)))
    return found


@pytest.mark.parametrize("profession", sorted(CREDENTIAL_FORMATS))
def test_credential_patterns_are_the_rules_formats(profession: Profession) -> None:
    pattern = CREDENTIAL_FORMATS[profession]
    for value in digit_strings():
        assert matches(pattern, value) == check_credential(profession, value), value


def test_the_credential_patterns_cover_every_profession() -> None:
    professions = CertificationSubmitted.model_json_schema()["$defs"]["ProfessionalDocuments"][
        "properties"]["profession"]["enum"]
    assert sorted(CREDENTIAL_FORMATS) == sorted(professions)


def resident_ids() -> list[str]:
    """Real ones (check character computed) and broken variants of each."""
    rng = random.Random(SEED)
    found = []
    for _ in range(200):
        born = date.fromordinal(rng.randint(date(1900, 1, 1).toordinal(), AS_OF.toordinal()))
        body = f"{rng.randint(110000, 659999)}{born:%Y%m%d}{rng.randint(0, 999):03d}"
        real = body + compute_id_check_char(body)
        wrong = body + next(c for c in "0123456789X" if c != real[17])
        found += [real, wrong, real.lower(), real[:17], real + "1", real[:16] + "AX",
                  FULL_WIDTH_DIGIT + real[1:]]
    return found


def test_resident_id_pattern_is_the_rules_format_and_the_rest_is_described() -> None:
    """The pattern is the format; the check character and the birth date are not patterns,
    so a number can match the pattern and still fail the rule (the description says so)."""
    seen = {True: 0, False: 0}
    for value in resident_ids():
        if not matches(RESIDENT_ID_FORMAT, value):
            assert not check_resident_id(value, AS_OF), value
        elif check_resident_id(value, AS_OF):
            seen[True] += 1
        else:
            seen[False] += 1  # right format, wrong check character
    assert seen[True] >= 200 and seen[False] >= 200


def usccs() -> list[str]:
    rng = random.Random(SEED)
    found = []
    for _ in range(300):
        body = (rng.choice(USCC_CHARSET) + rng.choice(USCC_CHARSET)
                + "".join(rng.choice("0123456789") for _ in range(6))
                + "".join(rng.choice(USCC_CHARSET) for _ in range(9)))
        real = body + compute_uscc_check_char(body)
        found += [real, body + next(c for c in USCC_CHARSET if c != real[17]),
                  real.lower(), real[:17], real + "0", real[:2] + "A" + real[3:],
                  real[:17] + rng.choice("IOSVZ"), rng.choice("IOSVZ") + real[1:]]
    return found


def test_uscc_pattern_is_the_rules_well_formed_code() -> None:
    for value in usccs():
        assert matches(USCC_FORMAT, value) == (check_uscc(value) is not UsccCheck.MALFORMED), (
            value)


def test_account_name_pattern_is_the_rule() -> None:
    names = ["好" * n for n in range(0, 27)] + [
        "好@店", "好《店", "好/店", "a/", "@@", "好店》", "Tea lover", "tea\\shop", "好 店"]
    for name in names:
        assert matches(ACCOUNT_NAME_FORMAT, name) == check_account_name(name), name
