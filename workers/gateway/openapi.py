"""The gateway's OpenAPI 3.1 document, generated from schema/ like the JSON Schema files.

Regenerate the checked-in copy with `python -m workers.gateway.openapi >
docs/gateway-openapi.json` (a test fails while it is stale).
"""

import json
from functools import cache
from typing import Any

from schema.envelope import Envelope
from workers.contract.schema_export import catalogue, event_schema

REGENERATE = "python -m workers.gateway.openapi > docs/gateway-openapi.json"
_REF = "#/components/schemas/"


def _rehome(node: Any, prefix: str) -> Any:
    """Point `#/$defs/X` references at the component `<prefix>.X`."""
    if isinstance(node, dict):
        return {k: (_REF + prefix + "." + v.removeprefix("#/$defs/")
                    if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/")
                    else _rehome(v, prefix)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rehome(v, prefix) for v in node]
    return node


def event_components() -> dict[str, Any]:
    """One schema per input event type (with its definitions), and CloudEvent = any of
    them."""
    inputs, _ = catalogue()
    components: dict[str, Any] = {}
    for event_type, model in sorted(inputs.items()):
        schema = event_schema(event_type, model, Envelope)
        schema.pop("$schema", None)
        for name, definition in schema.pop("$defs", {}).items():
            components[f"{event_type}.{name}"] = _rehome(definition, event_type)
        components[event_type] = _rehome(schema, event_type)
    components["CloudEvent"] = {
        "description": "An input event of the catalogue (docs/rules.md §2.3), CloudEvents 1.0 "
                       "JSON structured mode.",
        "oneOf": [{"$ref": _REF + t} for t in sorted(inputs)]}
    return components


def _refusal_schema() -> dict[str, Any]:
    return {"type": "object", "required": ["status", "reason", "detail"],
            "properties": {
                "status": {"type": "integer"},
                "reason": {"type": "string", "description": "a reason code "
                           "(docs/reason-codes.md for event refusals; docs/gateway.md)"},
                "detail": {"type": "string"},
                "id": {"type": ["string", "null"]},
                "type": {"type": ["string", "null"]}}}


def _accepted_schema() -> dict[str, Any]:
    return {"type": "object", "required": ["status", "id", "source", "type"],
            "properties": {"status": {"const": 202}, "id": {"type": "string"},
                           "source": {"type": "string"}, "type": {"type": "string"}}}


def _batch_schema() -> dict[str, Any]:
    outcome = {"allOf": [{"type": "object", "required": ["index"],
                          "properties": {"index": {"type": "integer"}}}],
               "oneOf": [{"$ref": _REF + "Accepted"}, {"$ref": _REF + "Refusal"}]}
    return {"type": "object", "required": ["accepted", "refused", "results"],
            "properties": {"accepted": {"type": "integer"}, "refused": {"type": "integer"},
                           "results": {"type": "array", "items": outcome}}}


def _answer(description: str, ref: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": _REF + ref}}}}


_REFUSALS = {
    "400": "invalid event or unreadable body; `reason` is the workers' reason code",
    "401": "no bearer token, or an unknown or revoked one",
    "403": "the event's `source` is not the token's source",
    "408": "the headers or the body did not arrive within the time limit (`header_timeout`, "
           "`body_timeout`); the connection is closed",
    "413": "the body is over the size limit (or a batch over the event limit)",
    "415": "neither CloudEvents JSON nor binary mode with JSON data",
    "431": "the request's headers are over the size limit (`headers_too_large`)",
    "503": "the broker is unreachable or did not confirm; nothing was accepted, retry",
}

_BINARY_HEADERS = [
    ("ce-specversion", "binary mode: `1.0`"), ("ce-id", "binary mode: the event id"),
    ("ce-source", "binary mode: the producer, equal to the token's source"),
    ("ce-type", "binary mode: the event type (routing key)"),
    ("ce-time", "binary mode: RFC 3339 time with an offset"),
    ("ce-subject", "binary mode: optional subject"),
]


def _single() -> dict[str, Any]:
    return {
        "operationId": "postEvent",
        "summary": "Publish one CloudEvent (structured or binary mode)",
        "description": "Structured mode: `Content-Type: application/cloudevents+json`, the "
                       "body is the event. Binary mode: the attributes in `ce-` headers, "
                       "`Content-Type: application/json`, the body is the event's `data`. "
                       "202 only once the broker confirmed the message.",
        "parameters": [{"name": name, "in": "header", "required": False,
                        "description": text, "schema": {"type": "string"}}
                       for name, text in _BINARY_HEADERS],
        "requestBody": {"required": True, "content": {
            "application/cloudevents+json": {"schema": {"$ref": _REF + "CloudEvent"}},
            "application/json": {"schema": {
                "type": "object", "description": "binary mode: the event's data"}}}},
        "responses": {"202": _answer("confirmed by the broker", "Accepted"),
                      **{code: _answer(text, "Refusal") for code, text in _REFUSALS.items()}},
    }


def _batch(operation_id: str) -> dict[str, Any]:
    either = {"oneOf": [{"$ref": _REF + "Refusal"}, {"$ref": _REF + "BatchOutcome"}]}
    return {
        "operationId": operation_id,
        "summary": "Publish a batch of CloudEvents, with one outcome per event",
        "description": "Each event is checked and published on its own; each result has "
                       "the event's `index` and `status`. The answer is 202 when every event "
                       "was confirmed; 503 when any was not (resending the whole batch is "
                       "safe: (source, id) is the idempotency key); the refusals' status "
                       "(400 or 403) when none was accepted and all share it; 207 otherwise. "
                       "A request refused as a whole (401, 408, 413, 415, 431, an unreadable "
                       "batch) "
                       "has one Refusal body.",
        "requestBody": {"required": True, "content": {
            "application/cloudevents-batch+json": {"schema": {
                "type": "array", "minItems": 1, "items": {"$ref": _REF + "CloudEvent"}}}}},
        "responses": {
            "202": _answer("every event confirmed by the broker", "BatchOutcome"),
            "207": _answer("some events accepted, some refused; see each result",
                           "BatchOutcome"),
            "400": {"description": "an unreadable batch (Refusal), or every event invalid "
                                   "(BatchOutcome)",
                    "content": {"application/json": {"schema": either}}},
            "401": _answer(_REFUSALS["401"], "Refusal"),
            "403": _answer("every event of another source than the token's",
                           "BatchOutcome"),
            **{code: _answer(_REFUSALS[code], "Refusal") for code in ("408", "413", "415",
                                                                       "431")},
            "503": {"description": "some events not confirmed by the broker (BatchOutcome; "
                                   "retry the batch), or the token store is down (Refusal)",
                    "content": {"application/json": {"schema": either}}},
        },
    }


@cache
def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "haodian gateway", "version": "1",
                 "description": "CloudEvents over HTTP (structured, binary and batch modes) "
                                "into haodian.events; see docs/gateway.md."},
        "paths": {
            "/events": {"post": _single()},
            "/events:batch": {"post": _batch("postEventBatch")},
            "/events/batch": {"post": _batch("postEventBatchSlash")},
            "/openapi.json": {"get": {
                "operationId": "getOpenApi", "summary": "This document", "security": [],
                "responses": {"200": {"description": "the OpenAPI document",
                                      "content": {"application/json": {}}}}}},
        },
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "a per-source token from `haodian gateway token add`"}},
            "schemas": {"Accepted": _accepted_schema(), "Refusal": _refusal_schema(),
                        "BatchOutcome": _batch_schema(), **event_components()},
        },
    }


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


@cache
def rendered() -> bytes:
    """What GET /openapi.json serves, rendered once."""
    return render().encode()


if __name__ == "__main__":
    print(render(), end="")
