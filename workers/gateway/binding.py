"""The CloudEvents HTTP protocol binding: an HTTP request -> structured JSON events.

    structured  Content-Type application/cloudevents+json (or application/json without
                ce- headers): the body is the event
    binary      ce-id, ce-source, ce-type, ce-specversion, ce-time, ... headers (values
                percent-encoded), Content-Type = datacontenttype, the body = data
    batch       Content-Type application/cloudevents-batch+json: a JSON array of events

Every mode ends as the structured JSON body the workers take from haodian.events; the
event itself is then validated by workers.runtime.decode, with the workers' reason codes.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

import orjson

from workers.runtime import decode
from workers.runtime.decode import Rejected, media_type

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
JSON = "application/json"
HEADER_PREFIX = "ce-"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request the binding cannot read: HTTP status, reason code, detail."""

    status: int
    reason: str
    detail: str


def binary_attributes(headers: Mapping[str, str]) -> dict[str, str] | Refusal:
    """ce-* headers -> context attributes (names lower-cased, values percent-decoded). A
    header repeated with another value is refused, as over AMQP: which one the sender
    meant is unknowable; repeated with the same value it is one attribute."""
    found: dict[str, str] = {}
    for name, value in headers.items():  # Starlette's items() keeps repeated headers
        if not name.lower().startswith(HEADER_PREFIX) or len(name) <= len(HEADER_PREFIX):
            continue
        attribute, decoded = name[len(HEADER_PREFIX):].lower(), unquote(value)
        if found.setdefault(attribute, decoded) != decoded:
            return Refusal(400, "envelope_invalid", f"header {HEADER_PREFIX}{attribute} "
                           "given twice with different values")
    return found


def _binary(attributes: dict[str, str], content_type: str | None, body: bytes
            ) -> bytes | Refusal:
    """The AMQP binding's rules for binary mode (workers.runtime.decode), so one event sent
    either way over either protocol becomes the same structured document."""
    headers = {decode.PREFIXES[0] + name: value for name, value in attributes.items()}
    structured = decode.to_structured(headers, content_type, body)
    if isinstance(structured, Rejected):
        status = 415 if structured.reason == "content_type_unsupported" else 400
        return Refusal(status, structured.reason, structured.detail)
    return structured


def read_single(headers: Mapping[str, str], body: bytes) -> bytes | Refusal:
    """POST /events: one event's structured JSON body, or why the request is unreadable."""
    content_type = headers.get("content-type")
    kind = media_type(content_type)
    if kind == STRUCTURED:
        return body
    if kind == BATCH:
        return Refusal(415, "content_type_unsupported",
                       f"{BATCH} goes to POST /events:batch")
    attributes = binary_attributes(headers)
    if isinstance(attributes, Refusal):
        return attributes
    if attributes:
        return _binary(attributes, content_type, body)
    if kind in ("", JSON):
        return body  # structured JSON without the CloudEvents media type, as over AMQP
    return Refusal(415, "content_type_unsupported",
                   f"content type {content_type!r}: send {STRUCTURED}, or ce- headers with "
                   f"{JSON} data")


def read_batch(headers: Mapping[str, str], body: bytes, max_events: int
               ) -> list[bytes] | Refusal:
    """POST /events:batch: each event's structured JSON body, in order."""
    content_type = headers.get("content-type")
    if media_type(content_type) not in (BATCH, JSON, ""):
        return Refusal(415, "content_type_unsupported",
                       f"content type {content_type!r}: send {BATCH}")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return Refusal(400, "malformed_json", str(exc)[:200])
    if not isinstance(document, list):
        return Refusal(400, "envelope_invalid", "a batch is a JSON array of CloudEvents")
    if not document:
        return Refusal(400, "envelope_invalid", "the batch is empty")
    if len(document) > max_events:
        return Refusal(413, "batch_too_large",
                       f"{len(document)} events in one batch; at most {max_events}")
    return [orjson.dumps(item) for item in document]
