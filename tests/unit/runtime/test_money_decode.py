"""Money on the wire, through the real decode path from raw bytes: a `_fen` field holding
anything but a JSON integer is `money_not_integer`; an integer out of bounds, a missing
amount or an unknown `_fen` field is `schema_invalid` (docs/decisions.md, "Money")."""

import pytest

from workers.registry import all_routes
from workers.runtime.decode import Decoded, Rejected, decode

T = "2021-08-03T10:15:00+08:00"
ENVELOPE = ('{"specversion": "1.0", "id": "evt-1", "source": "order-service", '
            '"type": "%s", "time": "' + T + '", "data": %s}')
# The input types with an amount, each with its data around the amount's raw JSON text.
AMOUNTS = {
    "order.confirmed": ('{"order_id": "o-1", "store_id": "s-1", "buyer_id": "u-9", '
                        '"amount_fen": %s, "confirmed_at": "' + T + '"}'),
    "aftersale.closed": ('{"aftersale_id": "as-1", "order_id": "o-1", "refund_fen": %s, '
                         '"closed_at": "' + T + '"}'),
    "product.submitted": ('{"product_id": "p-1", "store_id": "s-1", "title": "Tea", '
                          '"description": "", "category": "food", "price_fen": %s, '
                          '"qualifications": []}'),
    "deposit.paid": ('{"payment_id": "pay-1", "store_id": "s-1", "amount_fen": %s, '
                     '"plan": "standard"}'),
}
NOT_INTEGERS = ["12.5", "12.0", "1e3", "1299.0", '"1299"', '"12.5"', '""', "true", "null",
                "{}", "[1299]"]
OUT_OF_BOUNDS = ["-1", "1000000000001", "9223372036854775808", "1" + "0" * 40]


def structured(event_type: str, amount: str) -> bytes:
    return (ENVELOPE % (event_type, AMOUNTS[event_type] % amount)).encode()


def verdict(body: bytes, event_type: str) -> str:
    result = decode(body, "application/cloudevents+json", event_type, all_routes())
    return "ok" if isinstance(result, Decoded) else result.reason


@pytest.mark.parametrize("event_type", sorted(AMOUNTS))
def test_an_integer_amount_is_accepted(event_type: str) -> None:
    assert verdict(structured(event_type, "1299"), event_type) == "ok"
    assert verdict(structured(event_type, "1"), event_type) == "ok"


@pytest.mark.parametrize("event_type", sorted(AMOUNTS))
@pytest.mark.parametrize("amount", NOT_INTEGERS)
def test_anything_but_a_json_integer_is_money_not_integer(event_type: str, amount: str
                                                          ) -> None:
    assert verdict(structured(event_type, amount), event_type) == "money_not_integer"


@pytest.mark.parametrize("amount", OUT_OF_BOUNDS)
def test_an_integer_out_of_bounds_is_schema_invalid(amount: str) -> None:
    assert verdict(structured("order.confirmed", amount), "order.confirmed") == "schema_invalid"


def test_a_missing_amount_and_an_unknown_fen_field_are_schema_invalid() -> None:
    missing = structured("order.confirmed", "1").replace(b'"amount_fen": 1, ', b"")
    assert b"amount_fen" not in missing
    assert verdict(missing, "order.confirmed") == "schema_invalid"
    unknown = structured("order.confirmed", '1, "tip_fen": 1.5')
    assert verdict(unknown, "order.confirmed") == "schema_invalid"


def test_money_not_integer_wins_over_other_data_errors_and_names_the_field() -> None:
    body = structured("order.confirmed", '"1299"').replace(b'"o-1"', b'""')
    result = decode(body, "application/cloudevents+json", "order.confirmed", all_routes())
    assert isinstance(result, Rejected) and result.reason == "money_not_integer"
    assert "data.amount_fen: Input should be a valid integer" in result.detail
    assert (result.event_id, result.source, result.type) == (
        "evt-1", "order-service", "order.confirmed")


def test_binary_mode_gives_the_same_reason() -> None:
    headers = {"cloudEvents_specversion": "1.0", "cloudEvents_id": "evt-1",
               "cloudEvents_source": "order-service", "cloudEvents_type": "order.confirmed",
               "cloudEvents_time": T}
    for amount, reason in (('"1299"', "money_not_integer"), ("12.5", "money_not_integer"),
                           ("-1", "schema_invalid")):
        body = (AMOUNTS["order.confirmed"] % amount).encode()
        result = decode(body, "application/json", "order.confirmed", all_routes(), headers)
        assert isinstance(result, Rejected) and result.reason == reason, amount
