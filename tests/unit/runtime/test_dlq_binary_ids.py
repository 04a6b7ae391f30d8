"""A binary-mode message the broker dead-lettered is named by its cloudEvents headers."""

from workers.runtime.describe import binary_mode_ids as _binary_mode_ids


def test_binary_mode_headers_name_the_event() -> None:
    assert _binary_mode_ids({"cloudEvents_id": "e-1", "cloudEvents_type": "order.confirmed"}
                            ) == ("e-1", "order.confirmed")
    assert _binary_mode_ids({"cloudEvents:id": b"e-2", "cloudEvents:type": b"deposit.paid"}
                            ) == ("e-2", "deposit.paid")


def test_structured_messages_have_no_binary_ids() -> None:
    assert _binary_mode_ids({"x-death": []}) is None
