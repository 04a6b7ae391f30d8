"""Reason codes of the settlement domain (business rejections and permanent errors)."""

ORDER_UNKNOWN = "order_unknown"
REFUND_EXCEEDS_ORDER = "refund_exceeds_order"
ORDER_CONFLICT = "order_conflict"
AFTERSALE_CONFLICT = "aftersale_conflict"
RUN_CONFLICT = "run_conflict"

REASONS: dict[str, str] = {
    ORDER_UNKNOWN: (
        "an after-sale for an order not seen yet: retried until the order arrives, "
        "to the DLQ when retries run out"
    ),
    REFUND_EXCEEDS_ORDER: (
        "a refund larger than what remains of the order (gross minus earlier refunds); "
        "the after-sale stays open and keeps holding the order's settlement (DLQ)"
    ),
    ORDER_CONFLICT: (
        "an order_id seen before with another store, buyer, amount or confirmation time (DLQ)"
    ),
    AFTERSALE_CONFLICT: (
        "an aftersale_id seen before on another order, or closed again with another refund (DLQ)"
    ),
    RUN_CONFLICT: "a settlement run_id requested again with another as_of (DLQ)",
}
