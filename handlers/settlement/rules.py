"""Settlement rules (docs/rules.md §3.3): T+7, marginal monthly commission, payouts, clawbacks.

Pure integer-fen arithmetic: no await, no clock, no I/O, no float anywhere.

Commission is charged per store per Asia/Shanghai calendar month of `settle_at`:

    C(x) = round_half_up(5/100 × max(0, x − 1000000))

and an order that moves the store-month's cumulative net from a to b pays C(b) − C(a).
The differences telescope, so a month's commissions sum to C(final net) to the fen
whatever the order and number of orders, refunds and clawbacks.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from handlers.base import SHANGHAI

SETTLEMENT_DELAY = timedelta(days=7)
FREE_MONTHLY_NET_FEN = 1_000_000
# The 5% rate as an exact fraction: 5/100.
COMMISSION_RATE_NUMERATOR = 5
COMMISSION_RATE_DENOMINATOR = 100


def compute_settle_at(confirmed_at: datetime) -> datetime:
    """T+7: seven days after the buyer confirmed receipt."""
    if confirmed_at.tzinfo is None:
        raise ValueError("confirmed_at must be timezone-aware")
    return confirmed_at + SETTLEMENT_DELAY


def compute_month(settle_at: datetime) -> str:
    """The store-month key (`YYYY-MM`) of a settlement: its Asia/Shanghai calendar month."""
    if settle_at.tzinfo is None:
        raise ValueError("settle_at must be timezone-aware")
    local = settle_at.astimezone(SHANGHAI)
    return f"{local.year:04d}-{local.month:02d}"


def compute_day(at: datetime) -> date:
    """The Asia/Shanghai calendar day of an instant (daily buyers and GMV)."""
    if at.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    return at.astimezone(SHANGHAI).date()


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for numerator >= 0 < denominator."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up takes a non-negative numerator, positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def compute_month_commission(cumulative_net_fen: int) -> int:
    """C(x): the whole commission of a store-month whose settled net totals x."""
    taxable_fen = max(0, cumulative_net_fen - FREE_MONTHLY_NET_FEN)
    return round_half_up(COMMISSION_RATE_NUMERATOR * taxable_fen, COMMISSION_RATE_DENOMINATOR)


def compute_commission(before_fen: int, after_fen: int) -> int:
    """The commission of one step of a store-month's cumulative net: C(b) − C(a).

    Negative when the cumulative net drops (a clawback returns commission)."""
    return compute_month_commission(after_fen) - compute_month_commission(before_fen)


def compute_remaining(gross_fen: int, refunded_fen: int, clawed_back_fen: int) -> int:
    """What is left of an order that refunds can still take back."""
    return gross_fen - refunded_fen - clawed_back_fen


def check_refund_exceeds_order(
    gross_fen: int, refunded_fen: int, clawed_back_fen: int, refund_fen: int
) -> bool:
    """True when a refund is larger than what remains of the order (`refund_exceeds_order`)."""
    return refund_fen > compute_remaining(gross_fen, refunded_fen, clawed_back_fen)


@dataclass(frozen=True, slots=True)
class Settlement:
    """The figures of one order's settlement, and the store-month's net around it."""

    gross_fen: int
    refunded_fen: int
    net_fen: int
    commission_fen: int
    payout_fen: int
    debt_offset_fen: int
    transferred_fen: int
    month_net_before_fen: int
    month_net_after_fen: int


def compute_settlement(
    gross_fen: int, refunded_fen: int, month_net_before_fen: int, store_debt_fen: int
) -> Settlement:
    """Settle one order: commission on the month's step, payout pays the debt first."""
    if not 0 <= refunded_fen <= gross_fen:
        raise ValueError(f"refunded {refunded_fen} outside 0..gross {gross_fen}")
    if month_net_before_fen < 0 or store_debt_fen < 0:
        raise ValueError("month net and store debt are never negative")
    net_fen = gross_fen - refunded_fen
    after_fen = month_net_before_fen + net_fen
    commission_fen = compute_commission(month_net_before_fen, after_fen)
    payout_fen = net_fen - commission_fen
    debt_offset_fen = min(payout_fen, store_debt_fen)
    return Settlement(
        gross_fen=gross_fen,
        refunded_fen=refunded_fen,
        net_fen=net_fen,
        commission_fen=commission_fen,
        payout_fen=payout_fen,
        debt_offset_fen=debt_offset_fen,
        transferred_fen=payout_fen - debt_offset_fen,
        month_net_before_fen=month_net_before_fen,
        month_net_after_fen=after_fen,
    )


@dataclass(frozen=True, slots=True)
class Clawback:
    """A refund after settlement: commission returned to the store, the rest is its debt."""

    refund_fen: int
    commission_returned_fen: int
    store_debit_fen: int
    month_net_before_fen: int
    month_net_after_fen: int


def compute_clawback(refund_fen: int, month_net_before_fen: int) -> Clawback:
    """The store-month's net drops by the refund; C(a) − C(b) goes back to the store."""
    if refund_fen < 0:
        raise ValueError("a refund is never negative")
    after_fen = month_net_before_fen - refund_fen
    if after_fen < 0:
        raise ValueError(
            f"clawback {refund_fen} exceeds the store-month's net {month_net_before_fen}"
        )
    returned_fen = -compute_commission(month_net_before_fen, after_fen)
    return Clawback(
        refund_fen=refund_fen,
        commission_returned_fen=returned_fen,
        store_debit_fen=refund_fen - returned_fen,
        month_net_before_fen=month_net_before_fen,
        month_net_after_fen=after_fen,
    )


# --- after-sales --------------------------------------------------------------------------


def check_aftersale_holds_settlement(open_aftersales: int) -> bool:
    """An open after-sale holds its order's settlement: the order waits for a later run.

    sql/queries/settlement.sql (`lock_due_orders`) applies this rule in its WHERE clause
    (`open_aftersales = 0`) so that held orders are never read: keep the two in step."""
    return open_aftersales > 0


def check_due(
    settled: bool, open_aftersales: int, settle_at: datetime, as_of: datetime
) -> bool:
    """Whether a run as of `as_of` settles an order (`lock_due_orders` in SQL, for speed)."""
    return not settled and not check_aftersale_holds_settlement(open_aftersales) and (
        settle_at <= as_of
    )


@dataclass(frozen=True, slots=True)
class OrderState:
    """What an after-sale's close needs to know of its order (read under lock)."""

    gross_fen: int
    refunded_fen: int
    clawed_back_fen: int
    settled: bool


@dataclass(frozen=True, slots=True)
class KnownAftersale:
    """An after-sale already recorded under the same id."""

    order_id: str
    closed: bool
    refund_fen: int | None


CloseOutcome = Literal[
    "duplicate",  # closed before with the same refund: no new effects
    "on_other_order",  # the after-sale id belongs to another order (aftersale_conflict)
    "closed_differently",  # closed before with another refund (aftersale_conflict)
    "refund_exceeds_order",  # more than what remains of the order
    "rejected",  # closed without a refund: only the hold is released
    "refund",  # a refund before settlement: the order's net shrinks
    "clawback",  # a refund after settlement: charged back to the store
]


@dataclass(frozen=True, slots=True)
class AftersaleClose:
    """What closing an after-sale does; `releases_hold` when it was open on the order."""

    outcome: CloseOutcome
    releases_hold: bool


def decide_aftersale_close(
    order_id: str, order: OrderState, known: KnownAftersale | None, refund_fen: int
) -> AftersaleClose:
    """Close an after-sale: a refund before settlement reduces the order, one after
    settlement is a clawback; a refund of 0 only releases the hold. A close that arrives
    before its opening is recorded as it is (it held nothing)."""
    if known is not None:
        if known.order_id != order_id:
            return AftersaleClose("on_other_order", False)
        if known.closed:
            same = known.refund_fen == refund_fen
            return AftersaleClose("duplicate" if same else "closed_differently", False)
    was_open = known is not None
    if check_refund_exceeds_order(
        order.gross_fen, order.refunded_fen, order.clawed_back_fen, refund_fen
    ):
        return AftersaleClose("refund_exceeds_order", was_open)
    if refund_fen == 0:
        return AftersaleClose("rejected", was_open)
    return AftersaleClose("clawback" if order.settled else "refund", was_open)


# --- a run's chunk ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueOrder:
    """An order a run settles, as locked by `lock_due_orders`."""

    order_id: str
    store_id: str
    month: str
    gross_fen: int
    refunded_fen: int


@dataclass(frozen=True, slots=True)
class StoreMonth:
    """A store-month's running totals; `orders_settled` counts this chunk's orders only."""

    cumulative_net_fen: int
    commission_fen: int
    orders_settled: int = 0


StoreMonthKey = tuple[str, str]  # (store_id, month)


@dataclass(frozen=True, slots=True)
class ChunkSettlement:
    """A chunk's settlements in order, the new totals of the store-months it touched and
    each store's debt afterwards."""

    settled: tuple[tuple[DueOrder, Settlement], ...]
    store_months: Mapping[StoreMonthKey, StoreMonth]
    debts_fen: Mapping[str, int]

    @property
    def net_total_fen(self) -> int:
        return sum(s.net_fen for _, s in self.settled)

    @property
    def commission_total_fen(self) -> int:
        return sum(s.commission_fen for _, s in self.settled)

    @property
    def payout_total_fen(self) -> int:
        return sum(s.payout_fen for _, s in self.settled)


def compute_chunk_settlement(
    orders: Iterable[DueOrder],
    store_months: Mapping[StoreMonthKey, StoreMonth],
    debts_fen: Mapping[str, int],
) -> ChunkSettlement:
    """Settle orders one after another: each sees the month net, commission and debt that
    the orders before it left. Every order's store-month and store must be given."""
    months = dict(store_months)
    debts = dict(debts_fen)
    touched: set[StoreMonthKey] = set()
    settled: list[tuple[DueOrder, Settlement]] = []
    for order in orders:
        key = (order.store_id, order.month)
        month = months[key]
        s = compute_settlement(
            order.gross_fen, order.refunded_fen, month.cumulative_net_fen, debts[order.store_id]
        )
        months[key] = StoreMonth(
            cumulative_net_fen=s.month_net_after_fen,
            commission_fen=month.commission_fen + s.commission_fen,
            orders_settled=month.orders_settled + 1,
        )
        debts[order.store_id] -= s.debt_offset_fen
        touched.add(key)
        settled.append((order, s))
    return ChunkSettlement(
        settled=tuple(settled),
        store_months={key: months[key] for key in sorted(touched)},
        debts_fen=debts,
    )
