"""CloudEvents binary mode: headers + JSON body -> the structured document, or a refusal."""

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from workers.registry import all_routes
from workers.runtime.decode import (
    Decoded,
    Rejected,
    canonical_hash,
    decode,
    is_binary,
    to_structured,
)

T = "2021-08-03T10:15:00+08:00"
DATA = {"order_id": "o-1", "store_id": "s-1", "buyer_id": "u-9", "amount_fen": 129900,
        "confirmed_at": T}
STRUCTURED = {"specversion": "1.0", "id": "evt-1", "source": "order-service",
              "type": "order.confirmed", "time": T, "datacontenttype": "application/json",
              "data": DATA}


def headers(prefix: str = "cloudEvents_", **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {f"{prefix}{k}": v for k, v in STRUCTURED.items()
                             if k not in ("data", "datacontenttype")}
    found.update(extra)
    return found


def body(data: Any = DATA) -> bytes:
    return orjson.dumps(data)


def structured(h: dict[str, Any], content_type: str | None = "application/json",
               payload: bytes | None = None) -> dict[str, Any]:
    out = to_structured(h, content_type, body() if payload is None else payload)
    assert isinstance(out, bytes), out
    return dict(orjson.loads(out))


@pytest.mark.parametrize("prefix", ["cloudEvents_", "cloudEvents:"])
def test_both_binding_prefixes_give_the_structured_event(prefix: str) -> None:
    assert structured(headers(prefix)) == STRUCTURED


def test_same_event_in_both_modes_has_the_same_canonical_hash() -> None:
    spaced = b'{ "store_id":"s-1",  "order_id": "o-1", "buyer_id": "u-9", ' \
             b'"confirmed_at": "' + T.encode() + b'", "amount_fen": 129900 }'
    binary = decode(spaced, "application/json", "order.confirmed", all_routes(),
                            headers())
    plain = decode(orjson.dumps(STRUCTURED), "application/cloudevents+json",
                           "order.confirmed", all_routes(), {})
    assert isinstance(binary, Decoded) and isinstance(plain, Decoded)
    assert binary.key == plain.key == ("order-service", "evt-1")
    assert binary.body_sha256 == plain.body_sha256 == canonical_hash(STRUCTURED)


def test_no_content_type_means_no_datacontenttype_like_a_structured_event_without_it() -> None:
    without = {k: v for k, v in STRUCTURED.items() if k != "datacontenttype"}
    assert structured(headers(), content_type=None) == without
    assert structured(headers(), content_type="application/json; charset=utf-8") == STRUCTURED


def test_extensions_and_an_amqp_timestamp_become_attributes() -> None:
    stamp = datetime(2021, 8, 3, 2, 15, tzinfo=UTC)
    doc = structured(headers(cloudEvents_time=stamp, cloudEvents_traceparent=b"00-ab-cd-01",
                             other="ignored"))
    assert doc["time"] == "2021-08-03T02:15:00+00:00"
    assert doc["traceparent"] == "00-ab-cd-01"
    assert "other" not in doc
    naive = structured(headers(cloudEvents_time=datetime(2021, 8, 3, 2, 15)))
    assert naive["time"] == "2021-08-03T02:15:00+00:00"  # AMQP timestamps are UTC


@pytest.mark.parametrize(("content_type", "h", "expected"), [
    ("application/cloudevents+json", headers(), False),  # the content type decides
    ("application/cloudevents+json; charset=utf-8", headers(), False),
    ("application/json", headers(), True),
    (None, headers(), True),
    ("application/json", {"x-trace": "1"}, False),
    (None, None, False),
])
def test_binary_mode_is_told_by_headers_and_content_type(
        content_type: str | None, h: dict[str, Any] | None, expected: bool) -> None:
    assert is_binary(h, content_type) is expected


def test_structured_messages_pass_through_whatever_their_headers() -> None:
    result = decode(orjson.dumps(STRUCTURED), "application/cloudevents+json",
                            "order.confirmed", all_routes(), headers(cloudEvents_id="other"))
    assert isinstance(result, Decoded) and result.event.id == "evt-1"


def refused(h: dict[str, Any], content_type: str | None = "application/json",
            payload: bytes | None = None) -> Rejected:
    out = to_structured(h, content_type, body() if payload is None else payload)
    assert isinstance(out, Rejected), out
    return out


@pytest.mark.parametrize(("h", "reason", "words"), [
    (headers(cloudEvents_data="{}"), "envelope_invalid", "the data is the message body"),
    (headers(cloudEvents_datacontenttype="application/json"), "envelope_invalid",
     "AMQP content-type"),
    (headers(**{"cloudEvents_Order-Id": "o-1"}), "envelope_invalid", "lower-case"),
    (headers(cloudEvents_amount=1.5), "envelope_invalid", "a float value"),
    (headers(cloudEvents_id=b"\xff\xfe"), "envelope_invalid", "cloudEvents_id"),
    ({**headers(), "cloudEvents:id": "evt-2"}, "envelope_invalid", "given twice"),
])
def test_malformed_headers_are_refused_with_the_reason(
        h: dict[str, Any], reason: str, words: str) -> None:
    r = refused(h)
    assert r.reason == reason and words in r.detail


def test_a_refusal_names_the_event_when_the_headers_do() -> None:
    r = refused(headers(), payload=b"{not json")
    assert (r.reason, r.event_id, r.source, r.type) == (
        "malformed_json", "evt-1", "order-service", "order.confirmed")
    assert "binary-mode body" in r.detail
    bad_header = refused(headers(cloudEvents_priority=1.5))
    assert (bad_header.event_id, bad_header.type) == ("evt-1", "order.confirmed")


def test_data_that_is_not_json_is_refused_by_content_type() -> None:
    r = refused(headers(), content_type="application/xml", payload=b"<order/>")
    assert r.reason == "content_type_unsupported" and "application/xml" in r.detail


@pytest.mark.parametrize(("h", "payload", "routing_key", "reason"), [
    ({k: v for k, v in headers().items() if k != "cloudEvents_id"}, body(),
     "order.confirmed", "envelope_invalid"),
    (headers(cloudEvents_specversion="0.3"), body(), "order.confirmed", "envelope_invalid"),
    (headers(cloudEvents_time="2021-08-03T10:15:00"), body(), "order.confirmed",
     "envelope_invalid"),
    (headers(), body(), "order.paid", "type_mismatch"),
    (headers(), body({**DATA, "amount_fen": 12.5}), "order.confirmed", "money_not_integer"),
    (headers(), body([1, 2]), "order.confirmed", "schema_invalid"),
])
def test_the_rebuilt_event_is_checked_like_any_other(
        h: dict[str, Any], payload: bytes, routing_key: str, reason: str) -> None:
    result = decode(payload, "application/json", routing_key, all_routes(), h)
    assert isinstance(result, Rejected) and result.reason == reason, result
