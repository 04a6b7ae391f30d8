"""The one check of handler results in tests: the data exactly as the runtime publishes it
(`handlers.base.dump_result_data`), valid against the result model of its type."""

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from handlers.base import Result, dump_result_data
from schema import certification, compliance, deposit, runtime, settlement

RESULTS: dict[str, type[BaseModel]] = {
    **certification.RESULTS,
    **compliance.RESULTS,
    **settlement.RESULTS,
    **deposit.RESULTS,
    **runtime.RESULTS,
}


def published_data(result: Result) -> dict[str, Any]:
    """The result's `data` as published JSON, parsed; it must be the model of its type and
    its bytes must validate against that model."""
    model = RESULTS[result.type]
    assert type(result.data) is model, f"{result.type} carries {type(result.data).__name__}"
    body = dump_result_data(result.data)
    model.model_validate_json(body)
    data: dict[str, Any] = json.loads(body)
    return data


def wire(result: Result) -> dict[str, Any]:
    """A result as it goes on the wire: its type and subject beside its published data."""
    return {"type": result.type, "subject": result.subject, **published_data(result)}


def wire_all(results: Sequence[Result]) -> list[dict[str, Any]]:
    return [wire(result) for result in results]
