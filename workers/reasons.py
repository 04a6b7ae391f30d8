"""Reason codes of the runtime itself (the domains' own are in handlers/<domain>/reasons.py)."""

REASONS: dict[str, str] = {
    "content_type_unsupported": "the message's content type is not CloudEvents JSON",
    "malformed_json": "the body is not valid UTF-8 JSON",
    "envelope_invalid": "the CloudEvents envelope is missing attributes or has wrong ones",
    "type_mismatch": "the event `type` differs from the routing key",
    "event_type_unknown": "no handler in this domain takes this event type",
    "schema_invalid": "the event's data does not match the schema of its type",
    "money_not_integer": ("a `_fen` amount is anything but a JSON integer: a fraction "
                          "(`12.5`, `12.0`, `1e3`), a string (`\"1299\"`), a boolean, null, "
                          "an object or an array; an integer out of bounds is `schema_invalid`"),
    "conflicting_duplicate": "the same (source, id) was seen before with a different body",
    "retries_exhausted": "a transient failure persisted through every retry",
    "redelivery_limit": "workers died repeatedly while holding this message (poison message)",
    "handler_error": "the handler failed unexpectedly on every retry",
    # Database errors caused by the event (permanent: to the DLQ at once, the database's
    # message in x-haodian-detail) and passing ones (retried; the last reason on the copy).
    "data_invalid": ("PostgreSQL refused the event's data (SQLSTATE class 22: a value out "
                     "of range, too long, malformed, a division by zero)"),
    "constraint_violated": ("the event's data broke a database constraint the handler does "
                            "not expect (SQLSTATE class 23: unique, check, foreign key, "
                            "not null)"),
    "database_conflict": ("transient: serialization failure, deadlock or lock not available "
                          "(SQLSTATE 40001, 40P01, 55P03); retried"),
    "database_busy": ("transient: the database ran short of resources or cancelled the "
                      "statement (SQLSTATE class 53, 57014 statement timeout); retried"),
    # Seen by `haodian dlq` on messages the broker dead-lettered itself (no worker header).
    "broker_delivery_limit": (
        "the broker dead-lettered the message past the queue's delivery limit (poison)"),
    "broker_rejected": (
        "a consumer rejected the message without requeue and the broker dead-lettered it"),
    "reason_missing": "a DLQ message carries neither a worker's reason header nor x-death",
    "unroutable": (
        "no domain queue is bound to the message's routing key (kept from haodian.unroutable)"),
    # Returned by the publisher (`haodian publish`) only.
    "broker_refused": "the broker did not confirm the publication (nack, or connection lost)",
}
