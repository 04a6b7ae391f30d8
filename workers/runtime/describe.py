"""What a dead letter says about itself: reason, detail, event id, source and type, the
routing key it was first published under, and when it died.

A worker's DLQ copy carries x-haodian-* headers with all of it. A message the broker
dead-lettered itself (delivery limit, a reject) carries x-death instead, and one from
haodian.unroutable nothing: their identity is read from the body or binary-mode headers.
Every text is made storable (valid UTF-8, no NUL), since it comes from untrusted input."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from workers.runtime.decode import PREFIXES as BINARY_MODE_PREFIXES
from workers.runtime.delivered import (
    ATTEMPT_HEADER,
    DETAIL_HEADER,
    EVENT_ID_HEADER,
    REASON_HEADER,
    REJECTED_AT_HEADER,
    ROUTING_KEY_HEADER,
    SOURCE_HEADER,
    TYPE_HEADER,
    int_header,
)
from workers.topology import UNROUTABLE_PLACE

UNROUTABLE_REASON = "unroutable"  # workers/reasons.py


@dataclass(frozen=True)
class Description:
    reason: str
    detail: str
    event_id: str
    source: str
    type: str
    routing_key: str
    attempt: int
    dead_lettered_at: datetime


def text(value: Any) -> str:
    """A header or body value as storable text."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", "replace")
    return str(value if value is not None else "").replace("\x00", "\ufffd")


def _first_death(h: dict[str, Any]) -> dict[str, Any]:
    deaths = h.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        return deaths[0]
    return {}


def _original_routing_key(h: dict[str, Any], delivered_under: str) -> str:
    """A message the broker dead-lettered itself arrives under the DLX's key (the
    domain name): the original is in x-death."""
    if h.get(ROUTING_KEY_HEADER):
        return text(h[ROUTING_KEY_HEADER])
    keys = _first_death(h).get("routing-keys")
    if isinstance(keys, list) and keys:
        return text(keys[0])
    return text(delivered_under)


def peek(body: bytes) -> tuple[str, str, str]:
    """(id, source, type) from a structured-mode body; empty where it does not say."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "", "", ""
    if not isinstance(doc, dict):
        return "", "", ""

    def field(name: str) -> str:
        value = doc.get(name)
        return text(value) if isinstance(value, str) else ""

    return field("id"), field("source"), field("type")


def _binary_prefix(headers: dict[str, Any]) -> str | None:
    return next((p for p in BINARY_MODE_PREFIXES if f"{p}id" in headers), None)


def binary_mode_ids(headers: dict[str, Any]) -> tuple[str, str] | None:
    """(id, type) of a binary-mode CloudEvent, whose body holds only the data."""
    prefix = _binary_prefix(headers)
    if prefix is None:
        return None
    return text(headers[f"{prefix}id"]), text(headers.get(f"{prefix}type"))


def _dead_lettered_at(h: dict[str, Any], now: datetime) -> datetime:
    try:
        at = datetime.fromisoformat(text(h.get(REJECTED_AT_HEADER)))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        death_time = _first_death(h).get("time")
        at = death_time if isinstance(death_time, datetime) else now
    return at


def describe(place: str, body: bytes, h: dict[str, Any], delivered_under: str,
             now: datetime) -> Description:
    if REASON_HEADER in h:  # dead-lettered by a worker, which read what it could
        reason = text(h[REASON_HEADER])
        event_id, source, event_type = (text(h.get(EVENT_ID_HEADER)),
                                        text(h.get(SOURCE_HEADER)), text(h.get(TYPE_HEADER)))
    else:  # the AMQP message id is no event id (clients make one up)
        if place == UNROUTABLE_PLACE:
            reason = UNROUTABLE_REASON
        elif h.get("x-death"):
            reason = "broker_" + text(h.get("x-first-death-reason") or "dead_lettered")
        else:
            reason = "reason_missing"
        event_id, source, event_type = peek(body)
        prefix = _binary_prefix(h)
        if prefix is not None:
            event_id, source, event_type = (text(h[f"{prefix}{k}"]) if f"{prefix}{k}" in h
                                            else "" for k in ("id", "source", "type"))
    return Description(reason, text(h.get(DETAIL_HEADER))[:2000], event_id, source, event_type,
                       _original_routing_key(h, delivered_under),
                       int_header(h.get(ATTEMPT_HEADER)), _dead_lettered_at(h, now))
