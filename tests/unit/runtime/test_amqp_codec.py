"""Stored AMQP properties decode to exactly the values that were received."""

import decimal
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pamqp.commands import Basic

from workers.runtime.amqp_codec import decode_properties, encode_properties, without_headers

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(),
    st.floats(allow_nan=False), st.binary().filter(lambda b: not _utf8(b)),
    st.binary().map(bytearray),
    st.decimals(places=2, min_value=-(10**6), max_value=10**6, allow_nan=False),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0, tzinfo=UTC)))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.text(min_size=1, max_size=20), inner, max_size=4)), max_leaves=12)


def _utf8(b: bytes) -> bool:
    try:
        b.decode()
    except UnicodeDecodeError:
        return False
    return True


@given(st.dictionaries(st.text(min_size=1, max_size=20), values, max_size=6))
def test_every_header_value_comes_back_with_its_type(headers: dict[str, Any]) -> None:
    original = Basic.Properties(headers=headers, content_type="application/json",
                                priority=4, message_id="m", delivery_mode=2)
    back = decode_properties(encode_properties(original))
    assert _typed(back.headers or {}) == _typed(headers)
    assert (back.content_type, back.priority, back.message_id) == ("application/json", 4, "m")


def _typed(value: Any) -> Any:
    """Values with their types, so 1 and True or b"x" and bytearray(b"x") differ."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return ("decimal", str(value))
    return (type(value).__name__, value)


def test_runtime_headers_are_dropped_from_a_copy_only() -> None:
    original = Basic.Properties(headers={"x-haodian-reason": "r", "x-death": [], "keep": 1})
    trimmed = without_headers(original, ("x-haodian-", "x-death"))
    assert trimmed.headers == {"keep": 1}
    assert original.headers == {"x-haodian-reason": "r", "x-death": [], "keep": 1}
