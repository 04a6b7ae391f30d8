"""Identity and credential numbers never reach the logs; ordinary ids stay readable."""

from collections.abc import Iterator

import orjson
import pytest
import structlog

from workers import logs

RESIDENT_ID = "11010519491231002X"
USCC = "91350100M000100Y43"


@pytest.mark.parametrize(("text", "expected"), [
    (RESIDENT_ID, "110*************2X"),
    ("11010519491231002x", "110*************2x"),
    ("110105491231002", "110**********02"),  # legacy 15-digit resident id
    (USCC, "913*************43"),
    ("1" * 17, "111************11"),  # lawyer or teacher credential
    ("123456789012345", "123**********45"),  # doctor credential
    ("110101200001", "110*******01"),  # legacy 12-digit lawyer credential
    ("6222020200112233445", "622**************45"),  # 19-digit bank card
    (f"holder {RESIDENT_ID} failed", "holder 110*************2X failed"),
    (f"身份证{RESIDENT_ID}。", "身份证110*************2X。"),
    (f"id={RESIDENT_ID},uscc={USCC}", "id=110*************2X,uscc=913*************43"),
    (f'{{"operator_id_number": "{RESIDENT_ID}"}}', '{"operator_id_number": "110*************2X"}'),
])
def test_identity_and_credential_numbers_are_masked(text: str, expected: str) -> None:
    assert logs.mask(text) == expected


@pytest.mark.parametrize("text", [
    "o-1", "acc-1", "s-1", "app-3", "u-9",
    "550e8400-e29b-41d4-a716-446655440000",  # a uuid whose last group is 12 digits
    "8c1e0e5c-3f7b-4d2a-9c1e-0123456789ab",
    "3dea7c8ca57149c789c1762762e5d01c",  # uuid4().hex
    "2021-08-03T10:15:00+08:00",
    "amount_fen=129900 payout_fen=390000",
    "haodian_t_20047",
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "o-20210803101500123a",  # digits inside a longer token
    "12345678901",  # 11 digits: shorter than any credential
])
def test_ordinary_identifiers_are_left_alone(text: str) -> None:
    assert logs.mask(text) == text


@pytest.fixture
def json_logs() -> Iterator[None]:
    """structlog's configuration is global: put the default back afterwards."""
    yield
    structlog.reset_defaults()


def logger() -> structlog.typing.FilteringBoundLogger:
    """Configured in the test itself, so that it prints to the captured stderr."""
    logs.configure("info", "json")
    return structlog.get_logger()  # type: ignore[no-any-return]


def emitted(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    (line,) = capsys.readouterr().err.splitlines()
    return dict(orjson.loads(line))


def test_processor_masks_values_and_hides_sensitive_keys(
        json_logs: None, capsys: pytest.CaptureFixture[str]) -> None:
    logger().warning(
        "message_dead_lettered", event_id="550e8400-e29b-41d4-a716-446655440000",
        detail=f"holder {RESIDENT_ID} is under 18", operator_id_number="short",
        uscc=USCC, api_token="t0k3n", db_password="hunter2", credential_number=123456789012,
        legacy_enterprise_uscc=None)
    out = emitted(capsys)
    assert out["event"] == "message_dead_lettered"
    assert out["event_id"] == "550e8400-e29b-41d4-a716-446655440000"
    assert out["detail"] == "holder 110*************2X is under 18"
    for key in ("operator_id_number", "uscc", "api_token", "db_password",
                "credential_number"):
        assert out[key] == "***", key
    assert out["legacy_enterprise_uscc"] is None
    assert RESIDENT_ID not in str(out) and USCC not in str(out)


def test_processor_walks_nested_values(json_logs: None,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    logger().info(
        "event_decoded", type="certification.submitted",
        data={"account_id": "acc-1",
              "enterprise": {"uscc": USCC, "company_name": "好店", "Operator_Id_Number": "x"},
              "notes": [f"seen {RESIDENT_ID}", "o-1"]},
        batch=("o-1", RESIDENT_ID))
    out = emitted(capsys)
    assert out["data"] == {"account_id": "acc-1",
                           "enterprise": {"uscc": "***", "company_name": "好店",
                                          "Operator_Id_Number": "***"},
                           "notes": ["seen 110*************2X", "o-1"]}
    assert out["batch"] == ["o-1", "110*************2X"]


def test_exception_text_is_masked(json_logs: None, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise ValueError(f"bad id {RESIDENT_ID}")
    except ValueError:
        logger().exception("handler_failed")
    out = emitted(capsys)
    assert "110*************2X" in str(out["exception"])
    assert RESIDENT_ID not in str(out["exception"])
