"""Certification handlers given whole batches: delivery order within a batch, the same
outcome as one event at a time, and a constant number of statements per batch."""

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from certification_builders import T0, account, application, review, submit
from harness import Bus, event, run_worker_burst
from published import published_data, wire_all

from handlers.base import Incoming, PermanentError, TransientError
from handlers.certification.handle import (
    handle_reviewed,
    handle_reviewed_batch,
    handle_submitted,
    handle_submitted_batch,
)
from workers import topology
from workers.settings import Settings


class CountingDb:
    """The real connection, counting the statements a handler sends (round trips)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.statements = 0

    async def execute(self, query: str, *args: Any) -> str:
        self.statements += 1
        return await self.conn.execute(query, *args)

    async def executemany(self, command: str, args: Iterable[Sequence[Any]]) -> None:
        self.statements += 1
        await self.conn.executemany(command, args)

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        self.statements += 1
        return await self.conn.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> Any:
        self.statements += 1
        return await self.conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        self.statements += 1
        return await self.conn.fetchval(query, *args)


async def snapshot(pg: asyncpg.Connection) -> tuple[list[Any], list[Any]]:
    applications = await pg.fetch(
        "SELECT * FROM certification_applications ORDER BY application_id"
    )
    accounts = await pg.fetch("SELECT * FROM professional_accounts ORDER BY account_id")
    return [dict(row) for row in applications], [dict(row) for row in accounts]


async def test_second_application_of_an_account_in_one_batch_sees_the_first(
    pg: asyncpg.Connection,
) -> None:
    out = await handle_submitted_batch(
        pg,
        [
            submit(application_id="app-1", account_id="acc-1"),
            submit("interest", application_id="app-2", account_id="acc-1"),
            submit("interest", application_id="app-3", account_id="acc-2"),
            submit("interest", application_id="app-4", account_id="acc-2"),
        ],
    )
    assert [[(r["type"], r.get("reasons")) for r in wire_all(results)] for results in out] == [
        [("certification.pending_review", None)],
        [("certification.rejected", ["application_in_progress"])],
        [("certification.approved", None)],
        [("certification.rejected", ["already_certified"])],
    ]
    assert (await account(pg, "acc-2"))["application_id"] == "app-3"
    assert (await application(pg, "app-4"))["reasons"] == ["already_certified"]


async def test_renewal_in_the_same_batch_replaces_the_term(pg: asyncpg.Connection) -> None:
    renewal_at = T0 + timedelta(days=340)
    out = await handle_submitted_batch(
        pg,
        [
            submit("interest", application_id="app-1"),
            submit("interest", at=renewal_at, application_id="app-2"),
        ],
    )
    assert [[r.type for r in results] for results in out] == [
        ["certification.approved"],
        ["certification.approved"],
    ]
    row = await account(pg)
    assert (row["application_id"], row["certified_at"]) == ("app-2", renewal_at)
    assert row["valid_until"] == renewal_at + timedelta(days=365)


async def test_resubmission_in_the_same_batch_has_no_new_effects(pg: asyncpg.Connection) -> None:
    out = await handle_submitted_batch(pg, [submit(), submit(at=T0 + timedelta(minutes=5))])
    assert [len(results) for results in out] == [1, 0]
    assert (await application(pg))["submitted_at"] == T0


async def test_conflicting_application_id_in_a_batch_fails_the_batch(
    pg: asyncpg.Connection,
) -> None:
    with pytest.raises(PermanentError) as caught:
        await handle_submitted_batch(pg, [submit(), submit(account_id="acc-other")])
    assert caught.value.reason == "application_id_conflict"


async def test_a_batch_decides_like_one_event_at_a_time(pg: asyncpg.Connection) -> None:
    legacy = "91350100M000100Y43"
    events = [
        submit("enterprise", application_id="a-1", account_id="acc-1"),
        submit("interest", application_id="a-2", account_id="acc-1"),
        submit("professional", application_id="a-3", account_id="acc-2"),
        submit("interest", application_id="a-4", account_id="acc-3", account_name="x"),
        submit("interest", application_id="a-5", account_id="acc-4"),
        submit("interest", application_id="a-6", account_id="acc-4"),
        submit(
            "enterprise", application_id="a-7", account_id="acc-5", legacy_enterprise_uscc=legacy
        ),
        submit("interest", application_id="a-5", account_id="acc-4"),  # resubmitted
        submit("interest", at=T0 + timedelta(days=340), application_id="a-8", account_id="acc-4"),
    ]
    reviews = [
        review("approved", at=T0 + timedelta(days=1), application_id="a-1"),
        review(
            "rejected",
            at=T0 + timedelta(days=1),
            application_id="a-3",
            reasons=["photo_unreadable", "photo_unreadable", "credential_revoked"],
        ),
        review("approved", at=T0 + timedelta(days=2), application_id="a-1"),  # again
        review("rejected", at=T0 + timedelta(days=2), application_id="a-4"),  # pre-checked
    ]
    await pg.execute("SAVEPOINT one_by_one")
    expected = [await handle_submitted(pg, e) for e in events]
    expected += [await handle_reviewed(pg, e) for e in reviews]
    expected_rows = await snapshot(pg)
    await pg.execute("ROLLBACK TO SAVEPOINT one_by_one")

    out = await handle_submitted_batch(pg, events) + await handle_reviewed_batch(pg, reviews)
    assert out == expected
    assert await snapshot(pg) == expected_rows
    assert sum(map(len, out)) == 10  # the resubmission and the repeated reviews add nothing


@pytest.mark.parametrize("size", [1, 500])
async def test_a_batch_of_distinct_accounts_costs_three_statements(
    pg: asyncpg.Connection, size: int
) -> None:
    db = CountingDb(pg)
    events = [
        submit("interest", application_id=f"app-{i}", account_id=f"acc-{i}") for i in range(size)
    ]
    out = await handle_submitted_batch(db, events)
    assert db.statements == 3  # lock the accounts, load their state, write
    assert all([r.type for r in results] == ["certification.approved"] for results in out)
    assert [results[0].subject for results in out] == [f"app-{i}" for i in range(size)]
    assert await pg.fetchval("SELECT count(*) FROM professional_accounts") == size
    assert (
        await pg.fetchval(
            "SELECT count(*) FROM certification_applications WHERE status = 'approved'"
        )
        == size
    )


async def test_legacy_claims_read_the_policy_once_per_batch(pg: asyncpg.Connection) -> None:
    db = CountingDb(pg)
    events = [
        submit(
            application_id=f"app-{i}",
            account_id=f"acc-{i}",
            legacy_enterprise_uscc="91350100M000100Y43",
        )
        for i in range(20)
    ]
    out = await handle_submitted_batch(db, events)
    assert db.statements == 4
    assert {published_data(results[0])["fee_fen"] for results in out} == {0}


async def test_a_batch_of_reviews_costs_four_statements(pg: asyncpg.Connection) -> None:
    await handle_submitted_batch(
        pg,
        [
            submit("professional", application_id=f"app-{i}", account_id=f"acc-{i}")
            for i in range(300)
        ],
    )
    db = CountingDb(pg)
    decisions = ["approved", "rejected"]
    out = await handle_reviewed_batch(
        db,
        [
            review(decisions[i % 2], at=T0 + timedelta(days=1), application_id=f"app-{i}")
            for i in range(300)
        ],
    )
    assert db.statements == 4  # accounts, lock them, lock the applications, write
    assert [results[0].type for results in out][:2] == [
        "certification.approved",
        "certification.rejected",
    ]
    assert await pg.fetchval("SELECT count(*) FROM professional_accounts") == 150
    assert (
        await pg.fetchval(
            "SELECT count(*) FROM certification_applications WHERE status = 'pending_review'"
        )
        == 0
    )


async def test_contradicting_reviews_in_one_batch_fail_the_batch(pg: asyncpg.Connection) -> None:
    await handle_submitted(pg, submit())
    with pytest.raises(PermanentError) as caught:
        await handle_reviewed_batch(pg, [review("approved"), review("rejected")])
    assert caught.value.reason == "application_already_decided"


async def test_review_batch_with_an_unknown_application_is_retried(
    pg: asyncpg.Connection,
) -> None:
    await handle_submitted(pg, submit())
    reviews: list[Incoming[Any]] = [review(), review(application_id="app-unknown")]
    with pytest.raises(TransientError) as caught:
        await handle_reviewed_batch(pg, reviews)
    assert caught.value.reason == "application_unknown"


async def test_empty_batches_touch_nothing(pg: asyncpg.Connection) -> None:
    db = CountingDb(pg)
    assert await handle_submitted_batch(db, []) == []
    assert await handle_reviewed_batch(db, []) == []
    assert db.statements == 0


def interest(application_id: str, account_id: str) -> dict[str, Any]:
    return {
        "application_id": application_id,
        "account_id": account_id,
        "account_name": "Tea lover",
        "track": "interest",
        "interest": {"field": "tea"},
    }


async def test_one_bad_submission_leaves_its_batch_neighbours_committed(
    bus: Bus, settings: Settings
) -> None:
    """Through the worker: the conflicting application goes to the DLQ on its own; its
    neighbours, two applications of one account among them, are decided in order."""
    await bus.publish(
        *(event("certification.submitted", interest(f"app-{i}", f"acc-{i}")) for i in range(50))
    )
    await bus.publish(event("certification.submitted", interest("app-0", "acc-other")))
    await bus.publish(event("certification.submitted", interest("app-50", "acc-1")))
    await run_worker_burst(settings, ["certification"])
    await bus.wait_results(52)
    results = await bus.settle()
    approved = {r["subject"] for r in results if r["type"] == "certification.approved"}
    assert approved == {f"app-{i}" for i in range(50)}
    [refused] = [r for r in results if r["type"] == "certification.rejected"]
    assert (refused["subject"], refused["data"]["reasons"]) == ("app-50", ["already_certified"])
    [dead] = await bus.take_all(topology.dlq_name("certification"))
    assert dead.headers["x-haodian-reason"] == "application_id_conflict"
    assert len(bus.of_type("event.rejected")) == 1
