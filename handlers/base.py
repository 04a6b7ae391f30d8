"""The contract between the runtime and the domain handlers.

    Route / ChunkedRoute   one line of data per event type, in a domain's ROUTES
    Incoming[D]            one validated input event handed to a handler
    Result                 one result event a handler wants published
    Db                     what a handler may do with the database (an asyncpg connection
                           already inside the batch's transaction satisfies it)

    HaodianError
    ├── PermanentError     the message goes to the DLQ now, with `reason`
    └── TransientError     the message is retried later (durable backoff), with `reason`

Handlers never commit, ack, publish or read the clock: "now" is `Incoming.time`.
"""

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

import orjson
from pydantic import BaseModel

from schema.common import EventData

SHANGHAI = ZoneInfo("Asia/Shanghai")

D = TypeVar("D", bound=BaseModel)


class Db(Protocol):
    """The subset of an asyncpg connection that handlers use; already in a transaction."""

    async def execute(self, query: str, *args: Any) -> str: ...
    async def executemany(self, command: str, args: Iterable[Sequence[Any]]) -> None: ...
    async def fetch(self, query: str, *args: Any) -> list[Any]: ...
    async def fetchrow(self, query: str, *args: Any) -> Any: ...
    async def fetchval(self, query: str, *args: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class Incoming(Generic[D]):
    """A validated input event: the envelope's attributes and the typed data."""

    id: str
    source: str
    type: str
    time: datetime
    data: D
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """A result event to publish: `data` is the result model of `type` (schema/), built
    by the handler, so field names and types are checked where it is made. The runtime
    adds the envelope and writes `data` with `RESULT_JSON_OPTION` / `result_json_default`.

    The result id is uuid5 over (type, id_key). `id_key` defaults to
    "<input source>|<input id>|<subject>", so replaying an input gives the same id;
    set it when the same result can be caused by different inputs (a settlement is
    paid once whichever run pays it: id_key = order_id)."""

    type: str
    subject: str
    data: EventData
    id_key: str | None = None


# How result data goes on the wire: orjson with this option and default. A model is its
# fields in declaration order (`__dict__`: an EventData is frozen and has no extra fields;
# `dict(model)` costs ~70 times more); a datetime keeps the offset it was built with and
# is written by `isoformat()`, as the results always were.
RESULT_JSON_OPTION = orjson.OPT_PASSTHROUGH_DATETIME


def result_json_default(value: object) -> object:
    """orjson's `default` for result data: models and dates (see RESULT_JSON_OPTION)."""
    if isinstance(value, date):  # datetime too; checked first: cheaper than BaseModel's
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.__dict__
    raise TypeError(f"{type(value).__name__} is not JSON-ready result data")


def dump_result_data(data: EventData) -> bytes:
    """A result's data exactly as the runtime publishes it (inside the envelope)."""
    return orjson.dumps(data, default=result_json_default, option=RESULT_JSON_OPTION)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One bounded step of a long job (a settlement run): its results and whether the
    job is finished. The runtime commits each chunk in its own transaction and calls
    the handler again until `done`."""

    results: Sequence[Result]
    done: bool


BatchHandler = Callable[[Db, Sequence[Incoming[Any]]], Awaitable[Sequence[Sequence[Result]]]]
EventHandler = Callable[[Db, Incoming[Any]], Awaitable[Sequence[Result]]]
# A long job's step gets the chunk size the runtime was configured with (HAODIAN_CHUNK_SIZE).
ChunkHandler = Callable[[Db, Incoming[Any], int], Awaitable[Chunk]]


@dataclass(frozen=True, slots=True)
class Route:
    """One event type: its data model and its batch handler. The handler gets every
    event of this type from one batch (in delivery order) and returns one list of
    results per event, in the same order."""

    event_type: str
    model: type[BaseModel]
    handler: BatchHandler


@dataclass(frozen=True, slots=True)
class ChunkedRoute:
    """One event type whose work is too large for one transaction."""

    event_type: str
    model: type[BaseModel]
    handler: ChunkHandler


AnyRoute = Route | ChunkedRoute


def per_event(fn: EventHandler) -> BatchHandler:
    """Adapt a one-event handler to the batch signature (events run one after another
    in the batch's transaction)."""

    async def batch(db: Db, events: Sequence[Incoming[Any]]) -> Sequence[Sequence[Result]]:
        return [await fn(db, event) for event in events]

    batch.__name__ = getattr(fn, "__name__", "batch")
    batch.__doc__ = fn.__doc__
    return batch


class HaodianError(Exception):
    """An error the runtime knows how to route; `reason` is a stable snake_case code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class PermanentError(HaodianError):
    """Cannot succeed however often it is retried: to the DLQ now."""


class TransientError(HaodianError):
    """May succeed later (out-of-order event, lock contention): retry with backoff."""


@dataclass(frozen=True, slots=True)
class Domain:
    """A business domain: its queue's bindings, routes and reason codes."""

    name: str
    binding_keys: tuple[str, ...]
    routes: tuple[AnyRoute, ...]
    reasons: Mapping[str, str] = field(default_factory=dict)
