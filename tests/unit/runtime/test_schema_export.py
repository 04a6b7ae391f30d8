"""`haodian schema export`: one JSON Schema per catalogue type, each accepting real events."""

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from json_schema_check import errors, unsupported_keywords
from typer.testing import CliRunner

from handlers.base import Incoming, Result
from schema.envelope import ResultEnvelope
from workers.cli.app import app
from workers.contract.schema_export import catalogue, export
from workers.registry import all_routes
from workers.runtime import outbox
from workers.runtime.decode import Decoded, decode

# docs/rules.md §2.3 and §2.4, copied here on purpose: the export must follow the catalogue.
CATALOGUE_INPUTS = {
    "certification.submitted", "certification.reviewed", "store.open_requested",
    "product.submitted", "product.reviewed", "order.confirmed", "aftersale.opened",
    "aftersale.closed", "settlement.run_requested", "deposit.paid", "deposit.refund_requested"}
CATALOGUE_RESULTS = {
    "certification.pending_review", "certification.approved", "certification.rejected",
    "store.opened", "store.rejected", "product.approved", "product.rejected",
    "product.flagged", "settlement.scheduled", "settlement.paid", "settlement.clawback",
    "settlement.run_completed", "deposit.refunded", "deposit.refund_rejected",
    "event.rejected"}

T = "2021-08-03T10:15:00+08:00"
RESIDENT_ID = "11010519491231002X"
REFUND = {"request_id": "r-1", "store_id": "s-1", "reason": "plan_migration",
          "balance_fen": 3000000, "required_fen": 2000000, "debt_fen": 150000,
          "debt_offset_fen": 150000}

INPUT_DATA: dict[str, dict[str, Any]] = {
    "certification.submitted": {
        "application_id": "app-1", "account_id": "acc-1", "account_name": "好店科技",
        "track": "enterprise", "legacy_enterprise_uscc": "91350100M000100Y43",
        "enterprise": {"company_name": "好店科技有限公司", "uscc": "91350100M000100Y43",
                       "license_valid_until": None, "operator_name": "张三",
                       "operator_id_number": RESIDENT_ID}},
    "certification.reviewed": {"application_id": "app-1", "decision": "rejected",
                               "reasons": ["license_unreadable"], "reviewer": "auditor-7"},
    "store.open_requested": {"store_id": "s-1", "account_id": "acc-1",
                             "store_type": "flagship", "store_name": "好店旗舰店"},
    "product.submitted": {
        "product_id": "p-1", "store_id": "s-1", "title": "Green tea", "description": "",
        "category": "food", "price_fen": 1999, "brand": "Longjing",
        "qualifications": [{"kind": "food_production_license", "number": "SC" + "1" * 14,
                            "valid_until": "2030-01-31"}]},
    "product.reviewed": {"product_id": "p-1", "decision": "approved", "reasons": [],
                         "reviewer": "rev-1"},
    "order.confirmed": {"order_id": "o-1", "store_id": "s-1", "buyer_id": "u-9",
                        "amount_fen": 129900, "confirmed_at": T},
    "aftersale.opened": {"aftersale_id": "as-1", "order_id": "o-1", "opened_at": T},
    "aftersale.closed": {"aftersale_id": "as-1", "order_id": "o-1", "refund_fen": 0,
                         "closed_at": T},
    "settlement.run_requested": {"run_id": "run-1", "as_of": "2021-08-10T00:00:00Z"},
    "deposit.paid": {"payment_id": "pay-1", "store_id": "s-1", "amount_fen": 3000000,
                     "plan": "legacy_mall"},
    "deposit.refund_requested": {"request_id": "r-1", "store_id": "s-1",
                                 "reason": "plan_migration"},
}

RESULT_DATA: dict[str, dict[str, Any]] = {
    "certification.pending_review": {
        "application_id": "app-1", "account_id": "acc-1", "track": "enterprise",
        "fee_fen": 0, "legacy_migration": True, "flags": ["uscc_checksum_mismatch"],
        "review_due_at": "2021-08-06T10:15:00+08:00"},
    "certification.approved": {
        "application_id": "app-1", "account_id": "acc-1", "track": "interest", "fee_fen": 0,
        "legacy_migration": False, "certified_at": T,
        "valid_until": "2022-08-03T10:15:00+08:00"},
    "certification.rejected": {"application_id": "app-1", "account_id": "acc-1",
                               "track": "professional", "stage": "pre_check",
                               "reasons": ["credential_invalid", "id_number_invalid"]},
    "store.opened": {"store_id": "s-1", "account_id": "acc-1", "store_type": "enterprise",
                     "store_name": "好店", "deposit_plan": "standard",
                     "deposit_required_fen": 2000000, "opened_at": T},
    "store.rejected": {"store_id": "s-1", "account_id": "acc-1", "store_type": "personal",
                       "reasons": ["store_name_banned_word"], "banned_words": ["旗舰"]},
    "product.approved": {"product_id": "p-1", "store_id": "s-1", "status": "approved",
                         "reasons": [], "reviewer": None},
    "product.rejected": {"product_id": "p-1", "store_id": "s-1",
                         "reasons": ["category_prohibited"], "reviewer": None},
    "product.flagged": {"product_id": "p-1", "store_id": "s-1",
                        "reasons": ["absolute_advertising_term"], "terms": ["最"],
                        "matches": [{"term": "最", "field": "title"}]},
    "settlement.scheduled": {"order_id": "o-1", "store_id": "s-1", "amount_fen": 129900,
                             "settle_at": "2021-08-10T10:15:00+08:00"},
    "settlement.paid": {"order_id": "o-1", "store_id": "s-1", "month": "2021-08",
                        "gross_fen": 400000, "refunded_fen": 0, "net_fen": 400000,
                        "commission_fen": 10000, "payout_fen": 390000, "debt_offset_fen": 0,
                        "transferred_fen": 390000, "run_id": "run-1"},
    "settlement.clawback": {"order_id": "o-1", "store_id": "s-1", "aftersale_id": "as-1",
                            "refund_fen": 500000, "commission_returned_fen": 10002,
                            "store_debit_fen": 489998},
    "settlement.run_completed": {"run_id": "run-1", "as_of": T, "orders_settled": 3,
                                 "net_total_fen": 1200030, "commission_total_fen": 10002,
                                 "payout_total_fen": 1190028},
    "deposit.refunded": {**REFUND, "refund_fen": 850000},
    "deposit.refund_rejected": {**REFUND, "reasons": ["no_excess_deposit"]},
}

FEN_FIELD = {"order.confirmed": "amount_fen", "deposit.paid": "amount_fen",
             "settlement.scheduled": "amount_fen", "deposit.refunded": "refund_fen"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("schemas")
    export(directory)
    return directory


def load(directory: Path, kind: str, event_type: str) -> dict[str, Any]:
    return json.loads((directory / kind / f"{event_type}.json").read_text())


def input_event(event_type: str) -> dict[str, Any]:
    """A fresh copy each time: tests mutate it."""
    return dict(orjson.loads(orjson.dumps({
        "specversion": "1.0", "id": uuid.uuid4().hex, "source": "order-service",
        "type": event_type, "time": T, "datacontenttype": "application/json",
        "data": INPUT_DATA[event_type]})))


def result_event(event_type: str) -> dict[str, Any]:
    """The envelope exactly as the runtime writes it to the outbox."""
    cause = Incoming("evt-1", "order-service", "order.confirmed", datetime.now(UTC), None)
    if event_type == "event.rejected":
        out = outbox.rejection("evt-1", "order-service", "order.confirmed",
                               "schema_invalid", cause.time)
    else:
        out = outbox.wrap(Result(event_type, "subject-1", RESULT_DATA[event_type]), cause)
    return dict(orjson.loads(out.body))


def test_every_catalogue_type_has_exactly_one_file(exported: Path) -> None:
    assert {p.stem for p in (exported / "inputs").glob("*.json")} == CATALOGUE_INPUTS
    assert {p.stem for p in (exported / "results").glob("*.json")} == CATALOGUE_RESULTS
    assert set(INPUT_DATA) == CATALOGUE_INPUTS
    assert set(RESULT_DATA) | {"event.rejected"} == CATALOGUE_RESULTS


def test_the_checker_understands_every_keyword_exported(exported: Path) -> None:
    for path in exported.glob("*/*.json"):
        assert unsupported_keywords(json.loads(path.read_text())) == set(), path.name


@pytest.mark.parametrize("event_type", sorted(CATALOGUE_INPUTS))
def test_input_schema_accepts_a_valid_event_and_so_does_the_worker(
        exported: Path, event_type: str) -> None:
    e = input_event(event_type)
    assert isinstance(decode(orjson.dumps(e), "application/cloudevents+json", event_type,
                             all_routes()), Decoded)
    assert errors(e, load(exported, "inputs", event_type)) == []


@pytest.mark.parametrize("event_type", sorted(CATALOGUE_RESULTS))
def test_result_schema_accepts_the_envelope_the_runtime_writes(
        exported: Path, event_type: str) -> None:
    e = result_event(event_type)
    ResultEnvelope.model_validate(e)
    model = catalogue()[1][event_type]
    model.model_validate_json(orjson.dumps(e["data"]))
    assert errors(e, load(exported, "results", event_type)) == []


@pytest.mark.parametrize(("kind", "event_type"),
                         [("inputs", t) for t in sorted(CATALOGUE_INPUTS)]
                         + [("results", t) for t in sorted(CATALOGUE_RESULTS)])
def test_schema_refuses_unknown_data_fields_and_another_type(
        exported: Path, kind: str, event_type: str) -> None:
    schema = load(exported, kind, event_type)
    e = input_event(event_type) if kind == "inputs" else result_event(event_type)
    assert errors({**e, "data": {**e["data"], "surprise": 1}}, schema) == [
        "$.data: surprise is not allowed"]
    assert errors({**e, "type": "something.else"}, schema) == [
        f"$.type: is not {event_type!r}"]
    assert errors({k: v for k, v in e.items() if k != "data"}, schema) == [
        "$: data is required"]


@pytest.mark.parametrize(("event_type", "field"), sorted(FEN_FIELD.items()))
def test_schema_refuses_float_money(exported: Path, event_type: str, field: str) -> None:
    kind = "inputs" if event_type in CATALOGUE_INPUTS else "results"
    e = input_event(event_type) if kind == "inputs" else result_event(event_type)
    e["data"][field] = 12.5
    assert errors(e, load(exported, kind, event_type)) == [
        f"$.data.{field}: not of type integer"]


def test_input_schema_refuses_a_time_without_offset(exported: Path) -> None:
    e = {**input_event("order.confirmed"), "time": "2021-08-03T10:15:00"}
    assert errors(e, load(exported, "inputs", "order.confirmed")) == [
        "$.time: not a date-time"]


def test_cli_writes_the_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["schema", "export", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"wrote {len(CATALOGUE_INPUTS) + len(CATALOGUE_RESULTS)} schema files" in result.stdout
    assert (tmp_path / "out" / "results" / "event.rejected.json").is_file()
