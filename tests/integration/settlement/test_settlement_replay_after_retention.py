"""Settlement events replayed after retention deleted their inbox keys: the order id, the
after-sale id and the run id catch them; an order confirmed again is answered with the
result already published (same id, same bytes) and books nothing."""

from typing import Any

from harness import Bus, event
from replay_after_retention import answered, assert_no_second_effect, replay_after_prune

from workers.settings import Settings


def confirmed(order_id: str, amount_fen: int = 800_000) -> dict[str, Any]:
    return event("order.confirmed", {
        "order_id": order_id, "store_id": "s-1", "buyer_id": "u-1", "amount_fen": amount_fen,
        "confirmed_at": "2021-09-22T20:00:00+08:00"}, source="order-service",
        time="2021-09-22T20:00:01+08:00")


async def test_replayed_order_confirmation_books_nothing_twice(bus: Bus, settings: Settings
                                                               ) -> None:
    order = confirmed("o-1")
    replay = await replay_after_prune(bus, settings, [[order]], [order])
    assert answered(replay.results) == ["settlement.scheduled"]
    assert_no_second_effect(replay)  # the same settlement.scheduled, the same bytes


async def test_replayed_aftersale_refunds_nothing_twice(bus: Bus, settings: Settings) -> None:
    order = confirmed("o-2")
    opened = event("aftersale.opened", {"aftersale_id": "as-2", "order_id": "o-2",
                                        "opened_at": "2021-09-25T12:00:00+08:00"},
                   source="aftersale-service", time="2021-09-25T12:00:00+08:00")
    closed = event("aftersale.closed", {"aftersale_id": "as-2", "order_id": "o-2",
                                        "refund_fen": 200_000,
                                        "closed_at": "2021-09-26T12:00:00+08:00"},
                   source="aftersale-service", time="2021-09-26T12:00:00+08:00")
    replay = await replay_after_prune(bus, settings, [[order], [opened], [closed]],
                                      [opened, closed])
    assert replay.results == []
    assert_no_second_effect(replay)


async def test_replayed_run_and_order_settle_nothing_twice(bus: Bus, settings: Settings
                                                           ) -> None:
    order = confirmed("o-3", 400_000)
    run = event("settlement.run_requested", {"run_id": "run-1",
                                             "as_of": "2021-10-05T00:00:00+08:00"},
                source="cron", time="2021-10-05T00:00:00+08:00")
    replay = await replay_after_prune(bus, settings, [[order], [run]], [run, order])
    assert {"settlement.paid", "settlement.run_completed"} <= set(
        answered(replay.earlier_results))
    assert answered(replay.results) == ["settlement.scheduled"]  # the order's answer, again
    assert_no_second_effect(replay)
