"""The settlement domain: T+7 order settlement, commission, refunds and clawbacks."""

from handlers.base import ChunkedRoute, Domain, Route, per_event
from handlers.settlement.handle import (
    handle_aftersale_closed,
    handle_aftersale_opened,
    handle_order_confirmed,
)
from handlers.settlement.reasons import REASONS
from handlers.settlement.run import handle_run_requested
from schema.settlement import (
    AftersaleClosed,
    AftersaleOpened,
    OrderConfirmed,
    SettlementRunRequested,
)

DOMAIN = Domain(
    name="settlement",
    binding_keys=("order.*", "aftersale.*", "settlement.*"),
    routes=(
        Route("order.confirmed", OrderConfirmed, handle_order_confirmed),
        Route("aftersale.opened", AftersaleOpened, per_event(handle_aftersale_opened)),
        Route("aftersale.closed", AftersaleClosed, per_event(handle_aftersale_closed)),
        ChunkedRoute("settlement.run_requested", SettlementRunRequested, handle_run_requested),
    ),
    reasons=REASONS,
)
