"""Logging set-up: structlog and the standard library's loggers, one JSON line each, masked."""

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import orjson
import structlog
from structlog.typing import Processor

from workers.masking import mask

__all__ = ["HIDDEN", "LIBRARY_LOGGERS", "configure", "mask"]

_SENSITIVE_KEYS = ("id_number", "credential", "uscc", "password", "passwd", "secret", "token")
HIDDEN = "***"
# Libraries that log through the standard library; their lines go through the same
# processors as ours (their own handlers and levels are reset).
LIBRARY_LOGGERS = ("asyncpg", "aiormq", "aio_pika", "uvicorn", "uvicorn.access",
                   "uvicorn.error")


def _is_sensitive_key(key: object) -> bool:
    return isinstance(key, str) and any(s in key.lower() for s in _SENSITIVE_KEYS)


def _masked(value: Any) -> Any:
    """Strings masked, containers walked; a sensitive key's value hidden whatever it is."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: HIDDEN if _is_sensitive_key(k) and v is not None else _masked(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


def _mask_processor(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        event_dict[key] = (HIDDEN if _is_sensitive_key(key) and value is not None
                           else _masked(value))
    return event_dict


def _record_fields(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A standard-library record's logger name (ours carry theirs as bound fields)."""
    record = event_dict.get("_record")
    if isinstance(record, logging.LogRecord):
        event_dict.setdefault("logger", record.name)
    return event_dict


def _dumps(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, default=str).decode()


class _Handler(logging.StreamHandler[TextIO]):
    """Ours on the root logger, so configure() replaces it rather than adding another."""


def configure(level: str = "info", fmt: str = "json") -> None:
    """structlog's loggers and the standard library's (asyncpg, aiormq, aio_pika, uvicorn)
    render through the same processors to stderr: timestamp, level, exception text,
    masking, then JSON (or console) lines."""
    renderer: Processor = (structlog.processors.JSONRenderer(serializer=_dumps)
                           if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False))
    shared: list[Processor] = [structlog.contextvars.merge_contextvars,
                               structlog.processors.add_log_level,
                               structlog.processors.TimeStamper(fmt="iso", utc=True)]
    tail: list[Processor] = [structlog.processors.format_exc_info, _mask_processor, renderer]
    numeric = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*shared, *tail],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = _Handler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, _record_fields],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail]))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers.clear()
        library.setLevel(logging.NOTSET)
        library.propagate = True
