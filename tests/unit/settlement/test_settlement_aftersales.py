"""After-sale rules: the close decision table and the hold an open after-sale puts on an
order's settlement."""

from datetime import UTC, datetime, timedelta

import pytest

from handlers.settlement.rules import (
    AftersaleClose,
    KnownAftersale,
    OrderState,
    check_aftersale_holds_settlement,
    check_due,
    decide_aftersale_close,
)

UNSETTLED = OrderState(gross_fen=10_000, refunded_fen=2_000, clawed_back_fen=0, settled=False)
SETTLED = OrderState(gross_fen=10_000, refunded_fen=2_000, clawed_back_fen=3_000, settled=True)
OPEN = KnownAftersale("o-1", closed=False, refund_fen=None)


@pytest.mark.parametrize(
    ("order", "known", "refund_fen", "expected"),
    [
        # unknown after-sale (its close arrived before its opening): holds nothing
        (UNSETTLED, None, 0, AftersaleClose("rejected", False)),
        (UNSETTLED, None, 8_000, AftersaleClose("refund", False)),
        (UNSETTLED, None, 8_001, AftersaleClose("refund_exceeds_order", False)),
        (SETTLED, None, 5_000, AftersaleClose("clawback", False)),
        # an open after-sale: closing it releases the hold
        (UNSETTLED, OPEN, 0, AftersaleClose("rejected", True)),
        (UNSETTLED, OPEN, 1, AftersaleClose("refund", True)),
        (UNSETTLED, OPEN, 8_001, AftersaleClose("refund_exceeds_order", True)),
        (SETTLED, OPEN, 0, AftersaleClose("rejected", True)),
        (SETTLED, OPEN, 5_000, AftersaleClose("clawback", True)),
        (SETTLED, OPEN, 5_001, AftersaleClose("refund_exceeds_order", True)),
        # seen before
        (UNSETTLED, KnownAftersale("o-2", False, None), 0, AftersaleClose("on_other_order", False)),
        (SETTLED, KnownAftersale("o-2", True, 100), 100, AftersaleClose("on_other_order", False)),
        (UNSETTLED, KnownAftersale("o-1", True, 100), 100, AftersaleClose("duplicate", False)),
        (SETTLED, KnownAftersale("o-1", True, 0), 0, AftersaleClose("duplicate", False)),
        (
            UNSETTLED,
            KnownAftersale("o-1", True, 100),
            200,
            AftersaleClose("closed_differently", False),
        ),
    ],
)
def test_closing_an_aftersale(
    order: OrderState, known: KnownAftersale | None, refund_fen: int, expected: AftersaleClose
) -> None:
    assert decide_aftersale_close("o-1", order, known, refund_fen) == expected


@pytest.mark.parametrize(("open_aftersales", "holds"), [(0, False), (1, True), (3, True)])
def test_an_open_aftersale_holds_settlement(open_aftersales: int, holds: bool) -> None:
    assert check_aftersale_holds_settlement(open_aftersales) is holds


AS_OF = datetime(2021, 10, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("settled", "open_aftersales", "settle_at", "due"),
    [
        (False, 0, AS_OF, True),  # settle_at <= as_of: due
        (False, 0, AS_OF - timedelta(days=3), True),
        (False, 0, AS_OF + timedelta(microseconds=1), False),  # not yet
        (False, 1, AS_OF - timedelta(days=3), False),  # held by an open after-sale
        (True, 0, AS_OF - timedelta(days=3), False),  # settled once, never again
    ],
)
def test_which_orders_a_run_settles(
    settled: bool, open_aftersales: int, settle_at: datetime, due: bool
) -> None:
    assert check_due(settled, open_aftersales, settle_at, AS_OF) is due
