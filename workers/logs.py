"""structlog configuration: JSON lines (or console), with identity numbers masked."""

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog

# UUIDs are matched first only to be left alone: their last group can be 12 digits.
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ID_LIKE = (r"\d{17}[\dXx]"  # resident id (GB 11643-1999)
            r"|[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}"  # USCC (GB 32100-2015)
            r"|\d{12,19}")  # credential numbers, legacy 15-digit ids, bank cards
# ASCII boundaries, not \b: in "身份证110105…" the digits follow a word character.
_SENSITIVE = re.compile(
    rf"(?<![0-9A-Za-z])(?:(?P<uuid>{_UUID})|(?P<id>{_ID_LIKE}))(?![0-9A-Za-z])")
_SENSITIVE_KEYS = ("id_number", "credential", "uscc", "password", "passwd", "secret", "token")
HIDDEN = "***"


def _mask_match(m: re.Match[str]) -> str:
    found = m[0]
    return found if m["uuid"] else found[:3] + "*" * (len(found) - 5) + found[-2:]


def mask(text: str) -> str:
    """Keep the first 3 and last 2 characters of anything that looks like an id number."""
    return _SENSITIVE.sub(_mask_match, text)


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


def _dumps(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, default=str).decode()


def configure(level: str = "info", fmt: str = "json") -> None:
    renderer: Any = (structlog.processors.JSONRenderer(serializer=_dumps) if fmt == "json"
                     else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _mask_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
