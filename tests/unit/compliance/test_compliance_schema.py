"""Wire models of the compliance events: strict, and exactly the fields of docs/rules.md §2.3."""

import json
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from schema.compliance import INPUTS, RESULTS, ProductSubmitted, StoreOpenRequested

STORE = {"store_id": "s-1", "account_id": "a-1", "store_type": "personal",
         "store_name": "阿珍的小店"}
PRODUCT = {"product_id": "p-1", "store_id": "s-1", "title": "纯棉T恤", "description": "",
           "category": "apparel", "price_fen": 9900, "brand": None,
           "qualifications": [{"kind": "food_production_license", "number": "SC10644030500123",
                               "valid_until": "2026-01-01"},
                              {"kind": "brand_authorization", "number": "A-1",
                               "valid_until": None}]}
REVIEW = {"product_id": "p-1", "decision": "rejected", "reasons": ["misleading_claim"],
          "reviewer": "r-7"}


def load(model: Any, data: dict[str, Any]) -> Any:
    return model.model_validate_json(json.dumps(data))  # as the runtime does: JSON mode


def test_catalogue_names_every_compliance_event() -> None:
    assert set(INPUTS) == {"store.open_requested", "product.submitted", "product.reviewed"}
    assert set(RESULTS) == {"store.opened", "store.rejected", "product.approved",
                            "product.rejected", "product.flagged"}


@pytest.mark.parametrize(("event_type", "data"), [
    ("store.open_requested", STORE), ("product.submitted", PRODUCT),
    ("product.reviewed", REVIEW)])
def test_valid_inputs_load(event_type: str, data: dict[str, Any]) -> None:
    load(INPUTS[event_type], data)


def test_product_dates_and_optional_brand() -> None:
    without_brand = {k: v for k, v in PRODUCT.items() if k != "brand"}
    model = load(ProductSubmitted, without_brand)
    assert model.brand is None
    assert model.qualifications[0].valid_until == date(2026, 1, 1)


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (StoreOpenRequested, {**STORE, "store_type": "mall"}),
        (StoreOpenRequested, {**STORE, "store_name": ""}),
        (StoreOpenRequested, {**STORE, "store_id": "s" * 65}),
        (StoreOpenRequested, {**STORE, "owner": "x"}),  # unknown field
        (StoreOpenRequested, {k: v for k, v in STORE.items() if k != "account_id"}),
        (ProductSubmitted, {**PRODUCT, "price_fen": 99.0}),  # float money
        (ProductSubmitted, {**PRODUCT, "price_fen": "9900"}),
        (ProductSubmitted, {**PRODUCT, "price_fen": -1}),
        (ProductSubmitted, {**PRODUCT, "title": ""}),
        (ProductSubmitted, {k: v for k, v in PRODUCT.items() if k != "qualifications"}),
        (ProductSubmitted, {**PRODUCT, "qualifications": [{"kind": "x", "number": "1"}]}),
        (ProductSubmitted, {**PRODUCT, "qualifications": [
            {"kind": "x", "number": "1", "valid_until": "2026-13-01"}]}),
        (INPUTS["product.reviewed"], {**REVIEW, "decision": "maybe"}),
        (INPUTS["product.reviewed"], {**REVIEW, "reasons": ["Not Snake"]}),
    ],
)
def test_invalid_inputs_are_refused(model: Any, data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        load(model, data)
