"""Raw AMQP message -> a validated event for a route, or a rejection with a reason code."""

import hashlib
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError, create_model

from handlers.base import AnyRoute, Incoming
from schema.envelope import ACCEPTED_CONTENT_TYPES, Envelope


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


def _is_float_money(exc: ValidationError) -> bool:
    for error in exc.errors():
        loc = [p for p in error["loc"] if isinstance(p, str)]
        if loc and loc[-1].endswith("_fen") and isinstance(error.get("input"), float):
            return True
    return False


def decode(
    body: bytes, content_type: str | None, routing_key: str, routes: dict[str, AnyRoute]
) -> Decoded | Rejected:
    if (content_type or "").split(";")[0].strip().lower() not in ACCEPTED_CONTENT_TYPES:
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
        reason = "money_not_integer" if _is_float_money(exc) else "schema_invalid"
        return Rejected(reason, _describe(exc), **ids)
    data: BaseModel = envelope.data  # type: ignore[assignment]  # typed by typed_envelope
    event = Incoming(id=envelope.id, source=envelope.source, type=envelope.type,
                     time=envelope.time, data=data, subject=envelope.subject)
    return Decoded(route=route, event=event, body_sha256=canonical_hash(document))
