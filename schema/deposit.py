"""Deposit events: what upstream publishes (paid, refund requested) and what we answer."""

from typing import Annotated, Literal

from pydantic import Field, StrictInt, StrictStr

from schema.common import BIGINT_MAX, MAX_AMOUNT_FEN, EventData, Fen, Id

Plan = Literal["legacy_mall", "standard"]
RefundReason = Literal["plan_migration", "store_closed"]
# A payment of nothing is no payment: refused at the edge rather than booked as an empty entry.
PaymentFen = Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT_FEN)]
PositiveFen = Annotated[StrictInt, Field(gt=0, le=BIGINT_MAX)]
ReasonCode = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class DepositPaid(EventData):
    """A store paid (part of) its deposit under a plan; may arrive before the store opens."""

    payment_id: Id
    store_id: Id
    amount_fen: PaymentFen
    plan: Plan


class DepositRefundRequested(EventData):
    """A store asks for its deposit back: moving to the standard plan, or closing."""

    request_id: Id
    store_id: Id
    reason: RefundReason


class _RefundFigures(EventData):
    """The figures a refund decision was made on (merchant view, fen).

    balance_fen and debt_fen are the deposit and the debt before the request;
    required_fen is what must stay on deposit (0 for a closing store);
    debt_offset_fen is the debt paid from the deposit by this request."""

    request_id: Id
    store_id: Id
    reason: RefundReason
    balance_fen: Fen
    required_fen: Fen
    debt_fen: Fen
    debt_offset_fen: Fen


class DepositRefunded(_RefundFigures):
    """Result: refund_fen left the platform to the merchant."""

    refund_fen: PositiveFen


class DepositRefundRejected(_RefundFigures):
    """Result: nothing was refunded; reasons say why (any debt offset still happened)."""

    reasons: Annotated[list[ReasonCode], Field(min_length=1)]


INPUTS: dict[str, type[EventData]] = {
    "deposit.paid": DepositPaid,
    "deposit.refund_requested": DepositRefundRequested,
}

RESULTS: dict[str, type[EventData]] = {
    "deposit.refunded": DepositRefunded,
    "deposit.refund_rejected": DepositRefundRejected,
}
