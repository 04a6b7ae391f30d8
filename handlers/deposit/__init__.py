"""The deposit domain: store deposits paid, and refunded on plan migration or closure."""

from handlers.base import Domain, Route
from handlers.deposit.handle import handle_deposit_paid, handle_refund_requested
from handlers.deposit.reasons import REASONS
from schema.deposit import DepositPaid, DepositRefundRequested

DOMAIN = Domain(
    name="deposit",
    binding_keys=("deposit.*",),
    routes=(
        Route("deposit.paid", DepositPaid, handle_deposit_paid),
        Route("deposit.refund_requested", DepositRefundRequested, handle_refund_requested),
    ),
    reasons=REASONS,
)
