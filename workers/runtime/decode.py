"""Raw AMQP message -> a validated event for a route, or a rejection with a reason code.

`decode` is the one entry point, for both CloudEvents content modes. Structured mode: the
body is the event. Binary mode (CloudEvents AMQP binding): the context attributes travel
in the application properties (AMQP 0-9-1: the message headers), each named
`cloudEvents_<name>` or `cloudEvents:<name>` (the binding prefers the underscore, which
header syntaxes such as amqp-publish's `-H "key: value"` and JMS can carry);
`datacontenttype` travels as the AMQP content-type and the body is `data`.
`to_structured` rebuilds the structured document from those parts, so the same event
sent in either mode has the same attributes, hence the same canonical hash and the same
idempotency check. A message whose content type is `application/cloudevents…` is
structured whatever its headers say, as the binding requires.
"""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

import orjson
from pydantic import BaseModel, ValidationError, create_model

from handlers.base import AnyRoute, Incoming
from schema.envelope import ACCEPTED_CONTENT_TYPES, CONTENT_TYPE, EXTENSION_NAME_PATTERN, Envelope


@dataclass(frozen=True, slots=True)
class Decoded:
    route: AnyRoute
    event: Incoming[Any]
    body_sha256: bytes

    @property
    def key(self) -> tuple[str, str]:
        return (self.event.source, self.event.id)


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str
    detail: str
    event_id: str | None = None
    source: str | None = None
    type: str | None = None


@cache
def typed_envelope(model: type[BaseModel]) -> type[Envelope]:
    """The envelope with `data` typed, so one pydantic pass validates everything."""
    return create_model(f"{model.__name__}Event", __base__=Envelope, data=(model, ...))


def canonical_hash(document: Any) -> bytes:
    """Same JSON document, whatever its key order or spacing -> same hash."""
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).digest()


def _attr(document: Any, name: str) -> str | None:
    value = document.get(name) if isinstance(document, dict) else None
    return value if isinstance(value, str) and value else None


def _describe(exc: ValidationError, limit: int = 5) -> str:
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "(root)"
        parts.append(f"{where}: {error['msg']}")
    more = exc.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _is_money_not_integer(exc: ValidationError) -> bool:
    """A `_fen` field of the data holds something other than a JSON integer: a fraction
    (12.5, 12.0, 1e3), a string ("1299"), a boolean, null, an object or an array. Pydantic
    names those `int_*` errors; an integer out of bounds (negative, over 10^12), a missing
    field or an unknown one (`tip_fen`) is a schema error. docs/decisions.md, "Money"."""
    for error in exc.errors():
        loc = [p for p in error["loc"] if isinstance(p, str)]
        if loc and loc[-1].endswith("_fen") and error["type"].startswith("int_"):
            return True
    return False


def media_type(content_type: str | None) -> str:
    """`Application/JSON; charset=utf-8` -> `application/json`."""
    return (content_type or "").split(";")[0].strip().lower()


def decode(body: bytes, content_type: str | None, routing_key: str,
           routes: dict[str, AnyRoute], headers: Mapping[str, Any] | None = None
           ) -> Decoded | Rejected:
    """A message in either content mode -> the event for its route, or why it is refused."""
    if not is_binary(headers, content_type):
        return _decode_structured(body, content_type, routing_key, routes)
    structured = to_structured(headers, content_type, body)
    if isinstance(structured, Rejected):
        return structured
    return _decode_structured(structured, CONTENT_TYPE, routing_key, routes)


def _decode_structured(body: bytes, content_type: str | None, routing_key: str,
                       routes: dict[str, AnyRoute]) -> Decoded | Rejected:
    if media_type(content_type) not in ACCEPTED_CONTENT_TYPES:
        return Rejected("content_type_unsupported", f"content type {content_type!r}")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return Rejected("malformed_json", str(exc)[:200])
    ids = {"event_id": _attr(document, "id"), "source": _attr(document, "source"),
           "type": _attr(document, "type")}
    if not isinstance(document, dict):
        return Rejected("envelope_invalid", "the body is not a JSON object", **ids)
    event_type = ids["type"]
    if event_type is not None and event_type != routing_key:
        return Rejected("type_mismatch", f"type {event_type!r} under routing key "
                        f"{routing_key!r}", **ids)
    route = routes.get(routing_key)
    if route is None:
        try:
            Envelope.model_validate_json(body)
        except ValidationError as exc:
            return Rejected("envelope_invalid", _describe(exc), **ids)
        return Rejected("event_type_unknown", f"no handler for {routing_key!r}", **ids)
    try:
        envelope = typed_envelope(route.model).model_validate_json(body)
    except ValidationError as exc:
        if any(e["loc"] and e["loc"][0] != "data" for e in exc.errors()):
            return Rejected("envelope_invalid", _describe(exc), **ids)
        reason = "money_not_integer" if _is_money_not_integer(exc) else "schema_invalid"
        return Rejected(reason, _describe(exc), **ids)
    data = cast(BaseModel, envelope.data)  # typed by typed_envelope
    event = Incoming(id=envelope.id, source=envelope.source, type=envelope.type,
                     time=envelope.time, data=data, subject=envelope.subject)
    return Decoded(route=route, event=event, body_sha256=canonical_hash(document))


# ---- binary mode ----------------------------------------------------------------------
PREFIXES = ("cloudEvents_", "cloudEvents:")
STRUCTURED_MEDIA_TYPE = "application/cloudevents"
JSON_MEDIA_TYPE = "application/json"
# Attributes that have a place of their own in binary mode, never a header.
NOT_HEADERS = {"data": "the data is the message body",
               "data_base64": "the data is the message body",
               "datacontenttype": "the data's content type is the AMQP content-type"}
_NAME = re.compile(EXTENSION_NAME_PATTERN)


def is_binary(headers: Mapping[str, Any] | None, content_type: str | None) -> bool:
    """A binary-mode event: a `cloudEvents_`/`cloudEvents:` header and no CloudEvents
    content type."""
    if media_type(content_type).startswith(STRUCTURED_MEDIA_TYPE):
        return False
    return any(isinstance(k, str) and k.startswith(PREFIXES) for k in (headers or {}))


def _value(value: Any) -> Any:
    """A header value as its JSON attribute value; ValueError for what JSON cannot hold."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8")  # UnicodeDecodeError is a ValueError
    if isinstance(value, datetime):  # an AMQP timestamp: seconds, UTC
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if value is None or isinstance(value, str | bool | int):
        return value
    raise ValueError(f"a {type(value).__name__} value")


def attributes(headers: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The context attributes carried in the headers, and what is wrong with them (the
    first problem, or None); a bad header is left out, so the rest still names the event."""
    found: dict[str, Any] = {}
    problems: list[str] = []
    for key, raw in headers.items():
        prefix = next((p for p in PREFIXES if isinstance(key, str) and key.startswith(p)), None)
        if prefix is None:
            continue
        name = key[len(prefix):]
        if name in NOT_HEADERS:
            problems.append(f"header {key!r} is not allowed in binary mode: {NOT_HEADERS[name]}")
            continue
        if not _NAME.match(name):
            problems.append(f"header {key!r}: attribute names are 1-20 lower-case letters "
                            "or digits")
            continue
        try:
            value = _value(raw)
        except ValueError as exc:
            problems.append(f"header {key!r}: {exc} cannot be a CloudEvents attribute")
            continue
        if name in found and found[name] != value:
            problems.append(f"attribute {name!r} given twice with different values")
        found.setdefault(name, value)
    return found, (problems[0] if problems else None)


def _ids(found: Mapping[str, Any]) -> dict[str, str | None]:
    def text(name: str) -> str | None:
        value = found.get(name)
        return value if isinstance(value, str) and value else None
    return {"event_id": text("id"), "source": text("source"), "type": text("type")}


def to_structured(headers: Mapping[str, Any] | None, content_type: str | None,
                  body: bytes) -> bytes | Rejected:
    """The structured-mode JSON document of a binary-mode event, or why it is refused."""
    found, problem = attributes(headers or {})
    ids = _ids(found)
    if problem is not None:
        return Rejected("envelope_invalid", problem, **ids)
    media = media_type(content_type)
    if media not in ("", JSON_MEDIA_TYPE):
        return Rejected("content_type_unsupported", f"binary-mode data must be JSON "
                        f"({JSON_MEDIA_TYPE}), got content type {content_type!r}", **ids)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return Rejected("malformed_json", f"binary-mode body: {str(exc)[:180]}", **ids)
    document = dict(found)
    if media:
        document["datacontenttype"] = JSON_MEDIA_TYPE
    document["data"] = data
    return orjson.dumps(document)
