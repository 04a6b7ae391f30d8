"""AMQP properties kept losslessly: a content header encoded so that decoding it gives
back every value that was received, type for type.

Header tables hold typed values (byte strings, integers, timestamps, nested tables,
arrays such as x-death) that JSON cannot carry. pamqp decodes them, but re-encodes a
float as a 32-bit float and cannot encode the bytes it returns for a long string that
is not UTF-8; `Faithful` encodes those two as they came (double, long string) and
leaves the rest to pamqp, so storing, loading and replaying change nothing."""

import copy
import struct
from typing import Any

from pamqp import encode
from pamqp.commands import Basic
from pamqp.header import ContentHeader

Properties = Basic.Properties


def _value(value: Any) -> bytes:
    if isinstance(value, float):
        return b"d" + struct.pack(">d", value)
    if isinstance(value, bytes):
        return b"S" + struct.pack(">I", len(value)) + value
    if isinstance(value, dict):
        return b"F" + _table(value)
    if isinstance(value, list):
        return b"A" + _sized(b"".join(_value(v) for v in value))
    return encode.encode_table_value(value)


def _sized(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _table(table: dict[str, Any]) -> bytes:
    return _sized(b"".join(encode.short_string(k) + _value(v) for k, v in table.items()))


class Faithful(Properties):
    """Basic.Properties whose header table is encoded value for value as decoded."""

    def encode_property(self, name: str, value: Any) -> bytes:
        if name == "headers":
            return _table(value)
        return super().encode_property(name, value)


def faithful(properties: Properties) -> Faithful:
    out = Faithful()
    for name in Properties.attributes():
        setattr(out, name, getattr(properties, name))
    return out


def encode_properties(properties: Properties) -> bytes:
    return ContentHeader(0, 0, faithful(properties)).marshal()


def decode_properties(blob: bytes) -> Faithful:
    header = ContentHeader()
    header.unmarshal(blob)
    return faithful(header.properties)


def without_headers(properties: Properties, drop: tuple[str, ...]) -> Faithful:
    """A copy whose headers lack every name starting with one of `drop`."""
    trimmed = faithful(copy.copy(properties))
    kept = {k: v for k, v in (properties.headers or {}).items() if not k.startswith(drop)}
    trimmed.headers = kept or None
    return trimmed


def property_values(properties: Properties) -> dict[str, Any]:
    """Every AMQP property that is set, by its AMQP name (display and tests)."""
    return {name: getattr(properties, name) for name in Properties.attributes()
            if getattr(properties, name) is not None}
