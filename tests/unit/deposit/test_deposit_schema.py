"""Deposit wire models: strict inputs, JSON-ready results, the domain's routes."""

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from handlers.deposit import DOMAIN
from schema.deposit import INPUTS, RESULTS, DepositRefunded, DepositRefundRejected

PAID = {"payment_id": "pay-1", "store_id": "s-1", "amount_fen": 100_000, "plan": "legacy_mall"}
REQUESTED = {"request_id": "req-1", "store_id": "s-1", "reason": "plan_migration"}
FIGURES: dict[str, Any] = {
    "request_id": "req-1",
    "store_id": "s-1",
    "reason": "plan_migration",
    "balance_fen": 3_000_000,
    "required_fen": 2_000_000,
    "debt_fen": 150_000,
    "debt_offset_fen": 150_000,
}


def load(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """As the runtime validates `data`: from JSON text."""
    return model.model_validate_json(json.dumps(data))


def test_routes_serve_exactly_the_input_models() -> None:
    assert {r.event_type: r.model for r in DOMAIN.routes} == INPUTS
    assert set(RESULTS) == {"deposit.refunded", "deposit.refund_rejected"}


@pytest.mark.parametrize(
    ("event_type", "data"), [("deposit.paid", PAID), ("deposit.refund_requested", REQUESTED)]
)
def test_well_formed_inputs_are_accepted(event_type: str, data: dict[str, Any]) -> None:
    assert load(INPUTS[event_type], data).model_dump() == data


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("deposit.paid", {**PAID, "amount_fen": 100_000.0}),  # money as a float
        ("deposit.paid", {**PAID, "amount_fen": "100000"}),
        ("deposit.paid", {**PAID, "amount_fen": 0}),  # a payment of nothing
        ("deposit.paid", {**PAID, "amount_fen": -1}),
        ("deposit.paid", {**PAID, "plan": "mall"}),
        ("deposit.paid", {**PAID, "currency": "CNY"}),  # unknown field
        ("deposit.paid", {k: v for k, v in PAID.items() if k != "plan"}),
        ("deposit.paid", {**PAID, "store_id": ""}),
        ("deposit.paid", {**PAID, "payment_id": "p" * 65}),
        ("deposit.refund_requested", {**REQUESTED, "reason": "closing"}),
        ("deposit.refund_requested", {**REQUESTED, "store_id": 7}),
        ("deposit.refund_requested", {**REQUESTED, "refund_fen": 1}),
    ],
)
def test_malformed_inputs_are_refused(event_type: str, data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        load(INPUTS[event_type], data)


def test_refunded_result_carries_a_positive_refund() -> None:
    body = DepositRefunded(**FIGURES, refund_fen=850_000)

    assert json.loads(json.dumps(body.model_dump(mode="json"))) == {
        **FIGURES,
        "refund_fen": 850_000,
    }
    with pytest.raises(ValidationError):
        DepositRefunded(**FIGURES, refund_fen=0)


def test_rejected_result_needs_at_least_one_reason_code() -> None:
    body = DepositRefundRejected(**FIGURES, reasons=["no_excess_deposit"])

    assert body.model_dump(mode="json")["reasons"] == ["no_excess_deposit"]
    for reasons in ([], ["No Excess"]):
        with pytest.raises(ValidationError):
            DepositRefundRejected(**FIGURES, reasons=reasons)
