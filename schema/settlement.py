"""Settlement events: orders, after-sales and runs in; schedules, payouts and clawbacks out."""

from typing import Annotated

from pydantic import Field, StrictInt, StrictStr

from schema.common import (
    INTEGER_MAX,
    AmountFen,
    EventData,
    Fen,
    Id,
    Timestamp,
    check_entry,
    checked,
)

# A calendar month in Asia/Shanghai, e.g. "2021-10".
Month = Annotated[StrictStr, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
Count = Annotated[StrictInt, Field(ge=0, le=INTEGER_MAX)]
# Checked by the rules, not the schema (schema/common.py `checked`).
RefundFen = Annotated[AmountFen, checked(
    "0 = the claim was rejected. Business check (a refusal after the schema): a refund "
    "larger than what remains of the order (its amount minus earlier refunds) is refused "
    "as `refund_exceeds_order` (DLQ and `event.rejected`); the after-sale stays open.",
    check_entry("refund_exceeds_order", "event.rejected"))]


class OrderConfirmed(EventData):
    """The buyer confirmed receipt: the order's money becomes due to the store at T+7."""

    order_id: Id
    store_id: Id
    buyer_id: Id
    amount_fen: AmountFen
    confirmed_at: Timestamp


class AftersaleOpened(EventData):
    """An after-sale claim on an order; an unsettled order waits until it closes."""

    aftersale_id: Id
    order_id: Id
    opened_at: Timestamp


class AftersaleClosed(EventData):
    """An after-sale claim closed with a refund to the buyer (0 = claim rejected)."""

    aftersale_id: Id
    order_id: Id
    refund_fen: RefundFen
    closed_at: Timestamp


class SettlementRunRequested(EventData):
    """Settle every order due at `as_of` (the cron's request)."""

    run_id: Id
    as_of: Timestamp


class SettlementScheduled(EventData):
    """Result: the order will be settled by the first run at or after `settle_at`."""

    order_id: Id
    store_id: Id
    amount_fen: Fen
    settle_at: Timestamp


class SettlementPaid(EventData):
    """Result: the order was settled; `transferred_fen` left the platform to the store."""

    order_id: Id
    store_id: Id
    month: Month
    gross_fen: Fen
    refunded_fen: Fen
    net_fen: Fen
    commission_fen: Fen
    payout_fen: Fen
    debt_offset_fen: Fen
    transferred_fen: Fen
    run_id: Id


class SettlementClawback(EventData):
    """Result: a refund after settlement; the store owes `store_debit_fen` more."""

    order_id: Id
    store_id: Id
    aftersale_id: Id
    refund_fen: Fen
    commission_returned_fen: Fen
    store_debit_fen: Fen


class SettlementRunCompleted(EventData):
    """Result: a run found nothing more to settle; totals over the orders it settled."""

    run_id: Id
    as_of: Timestamp
    orders_settled: Count
    net_total_fen: Fen
    commission_total_fen: Fen
    payout_total_fen: Fen


INPUTS: dict[str, type[EventData]] = {
    "order.confirmed": OrderConfirmed,
    "aftersale.opened": AftersaleOpened,
    "aftersale.closed": AftersaleClosed,
    "settlement.run_requested": SettlementRunRequested,
}

RESULTS: dict[str, type[EventData]] = {
    "settlement.scheduled": SettlementScheduled,
    "settlement.paid": SettlementPaid,
    "settlement.clawback": SettlementClawback,
    "settlement.run_completed": SettlementRunCompleted,
}
