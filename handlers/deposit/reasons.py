"""Reason codes of the deposit domain (refund rejections and permanent errors)."""

STORE_UNKNOWN = "store_unknown"
NOT_LEGACY_MERCHANT = "not_legacy_merchant"
NO_EXCESS_DEPOSIT = "no_excess_deposit"
STORE_HAS_OPEN_OBLIGATIONS = "store_has_open_obligations"
DEPOSIT_PAYMENT_CONFLICT = "deposit_payment_conflict"
REFUND_REQUEST_CONFLICT = "refund_request_conflict"
DEPOSIT_REQUIREMENT_MISSING = "deposit_requirement_missing"
REFUND_REQUEST_UNDECIDED = "refund_request_undecided"

REASONS: dict[str, str] = {
    STORE_UNKNOWN: "deposit refund requested for a store that was never opened",
    NOT_LEGACY_MERCHANT: "plan_migration requested by a store holding no legacy_mall deposit",
    NO_EXCESS_DEPOSIT: (
        "after paying the store's debt, nothing is left above the deposit the store must keep"
    ),
    STORE_HAS_OPEN_OBLIGATIONS: (
        "store_closed requested while the store has unsettled orders or open after-sales"
    ),
    DEPOSIT_PAYMENT_CONFLICT: (
        "a deposit payment_id seen before with another store, amount or plan (DLQ)"
    ),
    REFUND_REQUEST_CONFLICT: (
        "a deposit refund request_id seen before with another store or reason (DLQ)"
    ),
    DEPOSIT_REQUIREMENT_MISSING: (
        "the store's type has no standard-plan row in deposit_requirements (DLQ)"
    ),
    REFUND_REQUEST_UNDECIDED: (
        "a repeated request_id whose first decision is not visible yet (retried)"
    ),
}
