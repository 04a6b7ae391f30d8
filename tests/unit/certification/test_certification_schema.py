"""Certification wire models: strict, one document block per track, JSON dates."""

import json
from typing import Any

import pytest
from pydantic import ValidationError

from schema.certification import (
    INPUTS,
    RESULTS,
    CertificationReviewed,
    CertificationSubmitted,
)

ENTERPRISE = {
    "company_name": "好店科技有限公司",
    "uscc": "91350100M000100Y43",
    "license_valid_until": None,
    "operator_name": "张三",
    "operator_id_number": "11010519491231002X",
}
PROFESSIONAL = {
    "profession": "doctor",
    "credential_number": "1" * 15,
    "credential_valid_until": "2030-01-01",
    "holder_name": "李四",
    "holder_id_number": "11010519491231002X",
}


def submitted(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "application_id": "app-1",
        "account_id": "acc-1",
        "account_name": "好店",
        "track": "enterprise",
        "enterprise": ENTERPRISE,
    }
    # `...` removes a field.
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


def parse(model: type[Any], data: dict[str, Any]) -> Any:
    # The runtime validates the whole body in JSON mode, where dates arrive as strings.
    return model.model_validate_json(json.dumps(data))


@pytest.mark.parametrize(
    "data",
    [
        submitted(),
        submitted(legacy_enterprise_uscc="91350100M000100Y43"),
        submitted(enterprise={**ENTERPRISE, "trademark_certificate_no": "TM-1"}),
        submitted(track="professional", enterprise=..., professional=PROFESSIONAL),
        submitted(track="interest", enterprise=..., interest={"field": "cooking"}),
        # A malformed USCC or a one-character name is a business rejection, not a schema error.
        submitted(account_name="", enterprise={**ENTERPRISE, "uscc": "x"}),
    ],
)
def test_valid_submissions_parse(data: dict[str, Any]) -> None:
    assert parse(CertificationSubmitted, data).application_id == "app-1"


@pytest.mark.parametrize(
    "data",
    [
        submitted(enterprise=...),  # no block
        submitted(professional=PROFESSIONAL),  # two blocks
        submitted(track="interest"),  # block of another track
        submitted(track="vip"),
        submitted(extra=1),
        submitted(application_id=""),
        submitted(application_id="a" * 65),
        submitted(account_id=7),
        submitted(enterprise={**ENTERPRISE, "license_valid_until": "2021-02-30"}),
        submitted(enterprise={**ENTERPRISE, "unknown": "x"}),
        submitted(
            track="professional",
            enterprise=...,
            professional={**PROFESSIONAL, "profession": "chef"},
        ),
        submitted(track="interest", enterprise=..., interest={}),
    ],
)
def test_invalid_submissions_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        parse(CertificationSubmitted, data)


def test_null_validity_means_long_term() -> None:
    event = parse(CertificationSubmitted, submitted())
    assert event.enterprise.license_valid_until is None


@pytest.mark.parametrize(
    ("data", "ok"),
    [
        ({"decision": "approved", "reasons": [], "reviewer": "audit-1"}, True),
        ({"decision": "approved", "reviewer": "audit-1"}, True),
        ({"decision": "rejected", "reasons": ["license_blurred"], "reviewer": "a"}, True),
        ({"decision": "rejected", "reasons": [], "reviewer": "a"}, False),
        ({"decision": "approved", "reasons": ["x"], "reviewer": "a"}, False),
        ({"decision": "rejected", "reasons": ["Not A Code"], "reviewer": "a"}, False),
        ({"decision": "maybe", "reasons": [], "reviewer": "a"}, False),
        ({"decision": "approved", "reasons": []}, False),
    ],
)
def test_reviews_need_reasons_only_when_rejected(data: dict[str, Any], ok: bool) -> None:
    data = {"application_id": "app-1", **data}
    if ok:
        assert parse(CertificationReviewed, data).decision == data["decision"]
    else:
        with pytest.raises(ValidationError):
            parse(CertificationReviewed, data)


def test_catalogue_maps_types_to_models() -> None:
    assert set(INPUTS) == {"certification.submitted", "certification.reviewed"}
    assert set(RESULTS) == {
        "certification.pending_review",
        "certification.approved",
        "certification.rejected",
    }


def test_result_money_must_be_integer_fen() -> None:
    data = {
        "application_id": "app-1",
        "account_id": "acc-1",
        "track": "enterprise",
        "fee_fen": 60000.0,
        "legacy_migration": False,
        "flags": [],
        "review_due_at": "2021-08-07T00:00:00+08:00",
    }
    with pytest.raises(ValidationError):
        parse(RESULTS["certification.pending_review"], data)
    assert parse(RESULTS["certification.pending_review"], {**data, "fee_fen": 60000})
