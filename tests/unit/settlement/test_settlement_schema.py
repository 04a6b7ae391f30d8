"""Settlement wire models: strict inputs, and the result models every handler output must fit."""

import json
from typing import Any

import pytest
from pydantic import ValidationError

from handlers.settlement import DOMAIN
from schema.settlement import INPUTS, RESULTS, AftersaleClosed, OrderConfirmed

ORDER = {
    "order_id": "o-1",
    "store_id": "s-1",
    "buyer_id": "u-9",
    "amount_fen": 129900,
    "confirmed_at": "2021-08-03T10:15:00+08:00",
}


def test_design_example_order_validates() -> None:
    order = OrderConfirmed.model_validate_json(json.dumps(ORDER))
    assert order.amount_fen == 129900
    assert order.confirmed_at.utcoffset() is not None


@pytest.mark.parametrize(
    "change",
    [
        {"amount_fen": 1299.0},  # float money
        {"amount_fen": "129900"},
        {"amount_fen": -1},
        {"confirmed_at": "2021-08-03T10:15:00"},  # no offset
        {"order_id": ""},
        {"order_id": "x" * 65},
        {"coupon": "X"},  # unknown field
    ],
)
def test_order_confirmed_is_strict(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        OrderConfirmed.model_validate_json(json.dumps({**ORDER, **change}))


def test_aftersale_closed_requires_integer_refund() -> None:
    body = {"aftersale_id": "a-1", "order_id": "o-1", "closed_at": "2021-08-05T10:00:00+08:00"}
    assert AftersaleClosed.model_validate_json(json.dumps({**body, "refund_fen": 0}))
    with pytest.raises(ValidationError):
        AftersaleClosed.model_validate_json(json.dumps({**body, "refund_fen": 0.5}))


def test_routes_cover_exactly_the_input_catalogue() -> None:
    assert {r.event_type: r.model for r in DOMAIN.routes} == INPUTS
    assert set(RESULTS) == {
        "settlement.scheduled",
        "settlement.paid",
        "settlement.clawback",
        "settlement.run_completed",
    }


def test_paid_month_is_year_dash_month() -> None:
    paid = {
        "order_id": "o-1",
        "store_id": "s-1",
        "gross_fen": 1,
        "refunded_fen": 0,
        "net_fen": 1,
        "commission_fen": 0,
        "payout_fen": 1,
        "debt_offset_fen": 0,
        "transferred_fen": 1,
        "run_id": "r-1",
    }
    RESULTS["settlement.paid"].model_validate_json(json.dumps({**paid, "month": "2021-10"}))
    for bad in ("2021-13", "2021-1", "202110"):
        with pytest.raises(ValidationError):
            RESULTS["settlement.paid"].model_validate_json(json.dumps({**paid, "month": bad}))
