"""The checked-in JSON Schemas of the certification inputs, read by a real validator
(jsonschema_rs, draft 2020-12), say what the workers do: "exactly one document block, the
one named by `track`" and "a rejection names reasons, an approval none" are schema rules
(the same verdict as the decoder, `schema_invalid`), while the pre-checks are described but
never enforced by the schema (the decoder accepts, the rules answer `certification.rejected`)."""

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import pytest
from json_schema_check import errors

from handlers.certification.reasons import REASONS
from handlers.certification.rules import (
    EnterpriseDocs,
    ProfessionalDocs,
    Submission,
    check_documents,
)
from workers.registry import all_routes
from workers.runtime.decode import Decoded, decode

ROOT = Path(__file__).resolve().parents[3]
INPUTS = ROOT / "docs" / "schemas" / "inputs"
T = "2021-08-03T10:15:00+08:00"
RESIDENT_ID = "11010519491231002X"
ENTERPRISE = {"company_name": "好店科技有限公司", "uscc": "91350100M000100Y43",
              "license_valid_until": None, "operator_name": "张三",
              "operator_id_number": RESIDENT_ID}
PROFESSIONAL = {"profession": "doctor", "credential_number": "1" * 15,
                "credential_valid_until": "2030-01-01", "holder_name": "李四",
                "holder_id_number": RESIDENT_ID}
INTEREST = {"field": "cooking"}
BLOCKS = {"enterprise": ENTERPRISE, "professional": PROFESSIONAL, "interest": INTEREST}


def schema(event_type: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((INPUTS / f"{event_type}.json").read_text())
    return loaded


def event(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"specversion": "1.0", "id": "evt-1", "source": "account-service",
            "type": event_type, "time": T, "datacontenttype": "application/json",
            "data": data}


def submission(track: str, **blocks: Any) -> dict[str, Any]:
    return event("certification.submitted", {
        "application_id": "app-1", "account_id": "acc-1", "account_name": "好店",
        "track": track, **blocks})


def verdicts(e: dict[str, Any]) -> tuple[str, str, str]:
    """(jsonschema_rs, the repo's checker, the workers' decoder): "ok" or why not."""
    validator = jsonschema_rs.Draft202012Validator(schema(e["type"]), validate_formats=True)
    by_library = "ok" if validator.is_valid(e) else "schema_invalid"
    by_checker = "schema_invalid" if errors(e, schema(e["type"])) else "ok"
    decoded = decode(orjson.dumps(e), "application/cloudevents+json", e["type"], all_routes())
    by_worker = "ok" if isinstance(decoded, Decoded) else decoded.reason
    return by_library, by_checker, by_worker


VALID = {
    "enterprise": submission("enterprise", enterprise=ENTERPRISE),
    "professional": submission("professional", professional=PROFESSIONAL),
    "interest": submission("interest", interest=INTEREST),
    "other blocks null": submission("professional", professional=PROFESSIONAL,
                                    enterprise=None, interest=None),
}
INVALID = {
    "no block": submission("enterprise"),
    "no block, others null": submission("interest", enterprise=None, professional=None),
    "both blocks": submission("enterprise", enterprise=ENTERPRISE, professional=PROFESSIONAL),
    "all three blocks": submission("interest", **BLOCKS),
    "the wrong block": submission("interest", enterprise=ENTERPRISE),
    "the wrong block, own null": submission("professional", professional=None,
                                            enterprise=ENTERPRISE),
    "own block null": submission("enterprise", enterprise=None),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_the_block_named_by_track_passes_schema_and_worker(name: str) -> None:
    assert verdicts(VALID[name]) == ("ok", "ok", "ok")


@pytest.mark.parametrize("name", sorted(INVALID))
def test_a_missing_extra_or_wrong_block_fails_schema_and_worker_alike(name: str) -> None:
    assert verdicts(INVALID[name]) == ("schema_invalid",) * 3


@pytest.mark.parametrize("track", sorted(BLOCKS))
@pytest.mark.parametrize("present", [(), *((b,) for b in BLOCKS),
                                     *((a, b) for a in BLOCKS for b in BLOCKS if a < b),
                                     tuple(BLOCKS)])
def test_every_combination_of_blocks_gets_one_verdict(track: str, present: tuple[str, ...]
                                                      ) -> None:
    e = submission(track, **{block: BLOCKS[block] for block in present})
    expected = "ok" if present == (track,) else "schema_invalid"
    assert verdicts(e) == (expected,) * 3


REVIEWS = [
    ({"decision": "approved", "reasons": []}, "ok"),
    ({"decision": "approved"}, "ok"),
    ({"decision": "rejected", "reasons": ["license_blurred"]}, "ok"),
    ({"decision": "rejected", "reasons": []}, "schema_invalid"),
    ({"decision": "rejected"}, "schema_invalid"),
    ({"decision": "approved", "reasons": ["license_blurred"]}, "schema_invalid"),
]


@pytest.mark.parametrize(("review", "expected"), REVIEWS)
def test_reviews_name_reasons_only_when_rejecting_in_schema_and_worker(
        review: dict[str, Any], expected: str) -> None:
    e = event("certification.reviewed", {"application_id": "app-1", "reviewer": "audit-1",
                                         **review})
    assert verdicts(e) == (expected,) * 3


def test_a_bad_document_number_is_schema_valid_and_rejected_by_the_pre_checks() -> None:
    """The pre-checks are described, not enforced: the schema and the decoder accept the
    submission; the rules reject it with the reasons the descriptions name."""
    bad = {**PROFESSIONAL, "profession": "lawyer", "credential_number": "1" * 15,
           "holder_id_number": "110105194912310021", "credential_valid_until": "2021-09-01"}
    e = submission("professional", professional=bad)
    assert verdicts(e) == ("ok", "ok", "ok")
    found = check_documents(Submission(
        account_name="好店", track="professional", submitted_at=datetime(2021, 8, 3, tzinfo=UTC),
        professional=ProfessionalDocs("lawyer", bad["credential_number"],
                                      date.fromisoformat(bad["credential_valid_until"]),
                                      bad["holder_id_number"])))
    assert found == (["credential_invalid", "id_number_invalid", "document_expiring"], [])
    described = json.dumps(schema("certification.submitted"), ensure_ascii=False)
    for reason in found[0]:
        assert f"`{reason}`" in described
    enterprise = {**ENTERPRISE, "uscc": "91350100M000100Y4I"}  # I is not in the charset
    assert verdicts(submission("enterprise", enterprise=enterprise)) == ("ok", "ok", "ok")
    assert check_documents(Submission(
        account_name="好店", track="enterprise", submitted_at=datetime(2021, 8, 3, tzinfo=UTC),
        enterprise=EnterpriseDocs(enterprise["uscc"], None, RESIDENT_ID)))[0] == [
        "uscc_malformed"]


def business_checks(value: Any) -> list[dict[str, Any]]:
    """Every `x-businessChecks` entry anywhere in a schema."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        found += value.get("x-businessChecks", [])
        for item in value.values():
            found += business_checks(item)
    elif isinstance(value, list):
        for item in value:
            found += business_checks(item)
    return found


def test_every_business_check_names_a_certification_reason_and_its_result() -> None:
    checks = business_checks(schema("certification.submitted"))
    assert {c["reason"] for c in checks} == {
        "account_name_invalid", "uscc_malformed", "uscc_checksum_mismatch",
        "id_number_invalid", "credential_invalid", "document_expiring"}
    assert {c["reason"] for c in checks} <= set(REASONS)
    assert {c["result"] for c in checks} == {"certification.rejected",
                                             "certification.pending_review"}
