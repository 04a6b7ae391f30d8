"""Hostile inputs of issue 12 (items 2 and 3) and money not sent as a JSON integer, each with
the reason every door must give."""

import json
from typing import Any

from harness import event

SOURCE = "order-service"
CJK_86 = "好" * 86  # 258 bytes of UTF-8: over the AMQP short string, under 128 characters
CJK_128 = "好" * 128


def order(*, id: str | None = None, **overrides: Any) -> dict[str, Any]:
    data = {"order_id": "o-1", "store_id": "s-1", "buyer_id": "u-9", "amount_fen": 129900,
            "confirmed_at": "2021-08-03T10:15:00+08:00", **overrides}
    return event("order.confirmed", data, id=id, source=SOURCE)


def product(**overrides: Any) -> dict[str, Any]:
    data = {"product_id": "p-1", "store_id": "s-1", "title": "Green tea", "description": "",
            "category": "food", "price_fen": 1999, "qualifications": [], **overrides}
    return event("product.submitted", data, source=SOURCE)


def dumps(e: dict[str, Any]) -> bytes:
    """JSON bytes; orjson cannot write integers past 64 bits, such as 10**40."""
    return json.dumps(e, ensure_ascii=False).encode()


# (name, event, reason): refused alike by the publisher, the gateway and the worker.
HOSTILE: list[tuple[str, dict[str, Any], str]] = [
    ("amount_2_63", order(amount_fen=2**63), "schema_invalid"),
    ("amount_10_40", order(amount_fen=10**40), "schema_invalid"),
    ("amount_over_business_max", order(amount_fen=10**12 + 1), "schema_invalid"),
    ("amount_negative", order(amount_fen=-1), "schema_invalid"),
    # Money not sent as a JSON integer: one code whatever the spelling (docs/decisions.md).
    ("amount_string", order(amount_fen="1299"), "money_not_integer"),
    ("amount_fraction", order(amount_fen=12.5), "money_not_integer"),
    ("amount_zero_fraction", order(amount_fen=12.0), "money_not_integer"),
    ("amount_null", order(amount_fen=None), "money_not_integer"),
    ("nul_in_data_id", order(order_id="o-\x00"), "schema_invalid"),
    ("c1_in_data_id", order(store_id="s-\x85"), "schema_invalid"),
    ("nul_in_text", product(title="Green\x00tea"), "schema_invalid"),
    ("nul_in_description", product(description="line 1\nline\x00 2"), "schema_invalid"),
    ("nul_in_event_id", order(id="evt-\x00"), "envelope_invalid"),
    ("cjk_86_event_id", order(id=CJK_86), "envelope_invalid"),
    ("cjk_128_event_id", order(id=CJK_128), "envelope_invalid"),
    ("cjk_source", {**order(), "source": CJK_86}, "envelope_invalid"),
    ("cjk_subject", {**order(), "subject": CJK_86}, "envelope_invalid"),
]
