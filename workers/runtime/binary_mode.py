"""CloudEvents AMQP binary mode: `cloudEvents_*` headers and a JSON body -> a structured event.

The CloudEvents AMQP binding puts the context attributes of a binary-mode event in the
application properties (AMQP 0-9-1: the message headers), each named `cloudEvents_<name>`
or `cloudEvents:<name>` (the binding prefers the underscore, which header syntaxes such
as amqp-publish's `-H "key: value"` and JMS can carry); `datacontenttype` travels as the
AMQP content-type and the body is `data`. `to_structured` rebuilds the structured-mode
document from those parts, so the rest of the runtime sees one format: the same event
sent in either mode has the same attributes, hence the same canonical hash and the same
idempotency check. A message whose content type is `application/cloudevents…` is
structured whatever its headers say, as the binding requires.
"""

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from handlers.base import AnyRoute
from schema.envelope import CONTENT_TYPE, EXTENSION_NAME_PATTERN
from workers.runtime.decode import Decoded, Rejected, decode

PREFIXES = ("cloudEvents_", "cloudEvents:")
STRUCTURED_MEDIA_TYPE = "application/cloudevents"
JSON_MEDIA_TYPE = "application/json"
# Attributes that have a place of their own in binary mode, never a header.
NOT_HEADERS = {"data": "the data is the message body",
               "data_base64": "the data is the message body",
               "datacontenttype": "the data's content type is the AMQP content-type"}
_NAME = re.compile(EXTENSION_NAME_PATTERN)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


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


def decode_message(body: bytes, content_type: str | None, routing_key: str,
                   routes: dict[str, AnyRoute], headers: Mapping[str, Any] | None
                   ) -> Decoded | Rejected:
    """`decode` for a message in either content mode (the worker's entry point)."""
    if not is_binary(headers, content_type):
        return decode(body, content_type, routing_key, routes)
    structured = to_structured(headers, content_type, body)
    if isinstance(structured, Rejected):
        return structured
    return decode(structured, CONTENT_TYPE, routing_key, routes)
