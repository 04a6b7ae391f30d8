"""The schema's bounds, as properties: bytes of what travels in AMQP, control characters,
integers the database holds; and what a PostgreSQL error means for the event."""

import json
import re
from typing import Any

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.base import PermanentError, TransientError
from schema.common import BIGINT_MAX, MAX_AMOUNT_FEN
from schema.compliance import ProductSubmitted
from schema.settlement import SettlementScheduled
from workers.registry import resolve, routes_by_type
from workers.runtime.decode import Decoded, decode
from workers.runtime.errors import translate

ROUTES = routes_by_type(resolve(["settlement"])[0])
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def order(event_id: str = "evt-1", **data: Any) -> bytes:
    return json.dumps({
        "specversion": "1.0", "id": event_id, "source": "order-service",
        "type": "order.confirmed", "time": "2021-08-03T10:15:00+08:00",
        "data": {"order_id": "o-1", "store_id": "s-1", "buyer_id": "u-9",
                 "amount_fen": 100, "confirmed_at": "2021-08-03T10:15:00+08:00", **data}},
        ensure_ascii=False).encode()


def reason(body: bytes) -> str:
    result = decode(body, "application/cloudevents+json", "order.confirmed", ROUTES)
    return "ok" if isinstance(result, Decoded) else result.reason


@given(st.text(max_size=140))
def test_an_event_id_is_accepted_iff_it_fits_an_amqp_short_string(event_id: str) -> None:
    fits = (1 <= len(event_id) <= 128 and len(event_id.encode()) <= 255
            and not CONTROL.search(event_id))
    assert reason(order(event_id)) == ("ok" if fits else "envelope_invalid")


@given(st.integers(min_value=1, max_value=128))
def test_cjk_ids_are_refused_from_86_characters(n: int) -> None:
    assert reason(order("好" * n)) == ("ok" if n <= 85 else "envelope_invalid")


@given(st.integers(min_value=-(10**45), max_value=10**45))
def test_an_amount_is_accepted_iff_within_the_business_maximum(amount: int) -> None:
    ok = 0 <= amount <= MAX_AMOUNT_FEN
    assert reason(order(amount_fen=amount)) == ("ok" if ok else "schema_invalid")


@pytest.mark.parametrize("amount", [2**63 - 1, 2**63, 2**64, 10**40])
def test_amounts_past_the_bigint_are_refused_not_parsed_as_floats(amount: int) -> None:
    assert reason(order(amount_fen=amount)) == "schema_invalid"


@given(st.integers(min_value=0, max_value=2**70))
def test_a_result_figure_is_valid_iff_a_bigint_holds_it(amount: int) -> None:
    data = {"order_id": "o-1", "store_id": "s-1", "amount_fen": amount,
            "settle_at": "2021-08-10T10:15:00+08:00"}
    valid = True
    try:
        SettlementScheduled.model_validate_json(json.dumps(data))
    except ValueError:
        valid = False
    assert valid == (amount <= BIGINT_MAX)


@given(st.text(max_size=64).filter(bool))
def test_a_data_id_is_accepted_iff_it_has_no_control_character(order_id: str) -> None:
    expected = "schema_invalid" if CONTROL.search(order_id) else "ok"
    assert reason(order(order_id=order_id)) == expected


def product(**data: Any) -> dict[str, Any]:
    return {"product_id": "p-1", "store_id": "s-1", "title": "Green tea", "description": "",
            "category": "food", "price_fen": 1999, "qualifications": [], **data}


@given(st.text(max_size=200))
def test_a_description_keeps_tab_and_line_breaks_and_refuses_other_controls(text: str
                                                                            ) -> None:
    refused = bool(CONTROL.search(text.replace("\t", "").replace("\n", "").replace("\r", "")))
    try:
        ProductSubmitted.model_validate_json(json.dumps(product(description=text)))
        assert not refused
    except ValueError as exc:
        assert refused and "control character" in str(exc)


def test_a_title_is_one_line() -> None:
    with pytest.raises(ValueError, match="control character U\\+000A at position 5"):
        ProductSubmitted.model_validate_json(json.dumps(product(title="Green\ntea")))


@pytest.mark.parametrize(("error", "kind", "expected"), [
    (asyncpg.exceptions.DivisionByZeroError, PermanentError, "data_invalid"),
    (asyncpg.exceptions.NumericValueOutOfRangeError, PermanentError, "data_invalid"),
    (asyncpg.exceptions.UniqueViolationError, PermanentError, "constraint_violated"),
    (asyncpg.exceptions.CheckViolationError, PermanentError, "constraint_violated"),
    (asyncpg.exceptions.SerializationError, TransientError, "database_conflict"),
    (asyncpg.exceptions.DeadlockDetectedError, TransientError, "database_conflict"),
    (asyncpg.exceptions.LockNotAvailableError, TransientError, "database_conflict"),
    (asyncpg.exceptions.OutOfMemoryError, TransientError, "database_busy"),
    (asyncpg.exceptions.QueryCanceledError, TransientError, "database_busy"),
])
def test_postgres_errors_are_translated_by_sqlstate(error: type[Exception], kind: type,
                                                    expected: str) -> None:
    translated = translate(error("the database's words"))
    assert isinstance(translated, kind)
    assert translated.reason == expected
    assert translated.detail.endswith("the database's words")


@pytest.mark.parametrize("error", [asyncpg.exceptions.UndefinedTableError("bug"),
                                   RuntimeError("bug")])
def test_other_errors_are_left_as_they_are(error: Exception) -> None:
    assert translate(error) is error
