"""Certification handlers against a real, migrated PostgreSQL database."""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from certification_builders import (
    ENTERPRISE,
    SH,
    T0,
    account,
    application,
    review,
    submit,
)
from published import wire_all

from handlers.base import PermanentError, Route, TransientError
from handlers.certification import DOMAIN
from handlers.certification.handle import handle_reviewed, handle_submitted
from handlers.queries import load_queries

Q = load_queries("certification")


async def test_interest_application_is_approved_at_once(pg: asyncpg.Connection) -> None:
    results = await handle_submitted(pg, submit("interest"))
    assert wire_all(results) == [
        {
            "type": "certification.approved",
            "subject": "app-1",
            "application_id": "app-1",
            "account_id": "acc-1",
            "track": "interest",
            "fee_fen": 0,
            "legacy_migration": False,
            "certified_at": "2021-08-03T10:15:00+08:00",
            "valid_until": "2022-08-03T10:15:00+08:00",
        }
    ]
    row = await account(pg)
    assert (row["track"], row["application_id"]) == ("interest", "app-1")
    assert row["valid_until"] == datetime(2022, 8, 3, 10, 15, tzinfo=SH)
    app = await application(pg)
    assert (app["status"], app["decided_at"], app["reviewer"]) == ("approved", T0, None)


async def test_passing_enterprise_application_goes_to_review(pg: asyncpg.Connection) -> None:
    results = await handle_submitted(pg, submit("enterprise"))
    assert wire_all(results) == [
        {
            "type": "certification.pending_review",
            "subject": "app-1",
            "application_id": "app-1",
            "account_id": "acc-1",
            "track": "enterprise",
            "fee_fen": 60000,
            "legacy_migration": False,
            "flags": [],
            "review_due_at": "2021-08-07T00:00:00+08:00",
        }
    ]
    app = await application(pg)
    assert (app["status"], app["fee_fen"], app["enterprise_uscc"]) == (
        "pending_review",
        60000,
        "91350100M000100Y43",
    )
    assert app["review_due_at"] == datetime(2021, 8, 7, tzinfo=SH)
    assert await account(pg) is None


async def test_checksum_mismatch_is_flagged_for_the_reviewer(pg: asyncpg.Connection) -> None:
    event = submit(enterprise={**ENTERPRISE, "uscc": "91350100M000100Y44"})
    [result] = wire_all(await handle_submitted(pg, event))
    assert (result["type"], result["flags"]) == (
        "certification.pending_review",
        ["uscc_checksum_mismatch"],
    )
    assert (await application(pg))["flags"] == ["uscc_checksum_mismatch"]


async def test_professional_application_pays_the_professional_fee(pg: asyncpg.Connection) -> None:
    [result] = wire_all(await handle_submitted(pg, submit("professional")))
    assert (result["type"], result["fee_fen"]) == ("certification.pending_review", 30000)
    assert (await application(pg))["profession"] == "lawyer"


async def test_pre_check_rejection_reports_every_reason(pg: asyncpg.Connection) -> None:
    event = submit(
        account_name="a@b",
        enterprise={
            **ENTERPRISE,
            "uscc": "9135",
            "operator_id_number": "110105194912310021",
            "license_valid_until": "2021-10-01",
        },
    )
    assert wire_all(await handle_submitted(pg, event)) == [
        {
            "type": "certification.rejected",
            "subject": "app-1",
            "application_id": "app-1",
            "account_id": "acc-1",
            "track": "enterprise",
            "stage": "pre_check",
            "reasons": [
                "uscc_malformed",
                "id_number_invalid",
                "document_expiring",
                "account_name_invalid",
            ],
        }
    ]
    app = await application(pg)
    assert (app["status"], app["fee_fen"], app["decided_at"]) == ("rejected", 0, T0)
    assert app["reasons"] == [
        "uscc_malformed",
        "id_number_invalid",
        "document_expiring",
        "account_name_invalid",
    ]


async def test_second_application_while_one_is_in_review_is_refused(pg: asyncpg.Connection) -> None:
    await handle_submitted(pg, submit())
    later = submit("interest", at=T0 + timedelta(hours=1), application_id="app-2")
    [result] = wire_all(await handle_submitted(pg, later))
    assert (result["type"], result["reasons"]) == (
        "certification.rejected",
        ["application_in_progress"],
    )


async def test_certified_account_may_only_renew_in_its_last_thirty_days(
    pg: asyncpg.Connection,
) -> None:
    await handle_submitted(pg, submit("interest"))
    early = submit("interest", at=T0 + timedelta(days=300), application_id="app-2")
    [result] = wire_all(await handle_submitted(pg, early))
    assert (result["type"], result["reasons"]) == ("certification.rejected", ["already_certified"])

    renewal = submit("interest", at=T0 + timedelta(days=340), application_id="app-3")
    [result] = wire_all(await handle_submitted(pg, renewal))
    assert result["type"] == "certification.approved"
    row = await account(pg)
    assert row["application_id"] == "app-3"
    assert row["valid_until"] == T0 + timedelta(days=340 + 365)


async def test_approval_by_review_certifies_the_account_for_a_year(pg: asyncpg.Connection) -> None:
    await handle_submitted(pg, submit())
    approved_at = datetime(2021, 8, 5, 16, 0, tzinfo=SH)
    assert wire_all(await handle_reviewed(pg, review("approved", at=approved_at))) == [
        {
            "type": "certification.approved",
            "subject": "app-1",
            "application_id": "app-1",
            "account_id": "acc-1",
            "track": "enterprise",
            "fee_fen": 60000,
            "legacy_migration": False,
            "certified_at": "2021-08-05T16:00:00+08:00",
            "valid_until": "2022-08-05T16:00:00+08:00",
        }
    ]
    row = await account(pg)
    assert (row["track"], row["enterprise_uscc"], row["account_name"]) == (
        "enterprise",
        "91350100M000100Y43",
        "好店",
    )
    assert (row["certified_at"], row["valid_until"]) == (
        approved_at,
        datetime(2022, 8, 5, 16, 0, tzinfo=SH),
    )
    app = await application(pg)
    assert (app["status"], app["reviewer"], app["decided_at"]) == (
        "approved",
        "auditor-7",
        approved_at,
    )


async def test_rejection_by_review_keeps_the_fee_and_the_reviewer_reasons(
    pg: asyncpg.Connection,
) -> None:
    await handle_submitted(pg, submit("professional"))
    event = review("rejected", reasons=["credential_revoked", "photo_unreadable"])
    assert wire_all(await handle_reviewed(pg, event)) == [
        {
            "type": "certification.rejected",
            "subject": "app-1",
            "application_id": "app-1",
            "account_id": "acc-1",
            "track": "professional",
            "stage": "review",
            "reasons": ["credential_revoked", "photo_unreadable"],
        }
    ]
    app = await application(pg)
    assert (app["status"], app["fee_fen"]) == ("rejected", 30000)
    assert await account(pg) is None
    # Out of review: the account may apply again.
    again = submit("professional", at=T0 + timedelta(days=1), application_id="app-2")
    [result] = wire_all(await handle_submitted(pg, again))
    assert result["type"] == "certification.pending_review"


async def test_review_of_an_unknown_application_is_retried(pg: asyncpg.Connection) -> None:
    with pytest.raises(TransientError) as caught:
        await handle_reviewed(pg, review())
    assert caught.value.reason == "application_unknown"


async def test_same_review_twice_has_effects_once(pg: asyncpg.Connection) -> None:
    await handle_submitted(pg, submit())
    assert len(await handle_reviewed(pg, review("approved"))) == 1
    first = await account(pg)
    assert await handle_reviewed(pg, review("approved", at=T0 + timedelta(days=2))) == []
    assert await account(pg) == first


async def test_contradicting_review_goes_to_the_dlq(pg: asyncpg.Connection) -> None:
    await handle_submitted(pg, submit())
    await handle_reviewed(pg, review("rejected"))
    with pytest.raises(PermanentError) as caught:
        await handle_reviewed(pg, review("approved"))
    assert caught.value.reason == "application_already_decided"
    assert (await application(pg))["status"] == "rejected"


async def test_review_of_a_pre_check_rejection_is_settled_by_its_decision(
    pg: asyncpg.Connection,
) -> None:
    await handle_submitted(pg, submit(account_name="x"))
    assert await handle_reviewed(pg, review("rejected")) == []
    with pytest.raises(PermanentError):
        await handle_reviewed(pg, review("approved"))


async def test_resubmitted_application_has_no_new_effects(pg: asyncpg.Connection) -> None:
    await handle_submitted(pg, submit())
    assert await handle_submitted(pg, submit(at=T0 + timedelta(minutes=5))) == []
    with pytest.raises(PermanentError) as caught:
        await handle_submitted(pg, submit(account_id="acc-other"))
    assert caught.value.reason == "application_id_conflict"


@pytest.mark.parametrize(
    ("at", "legacy_uscc", "fee_fen"),
    [
        (datetime(2021, 8, 1, 0, 0, tzinfo=SH), "91350100M000100Y43", 0),
        # 16:00Z on 07-31 is already 08-01 in Shanghai.
        (datetime(2021, 7, 31, 16, 0, tzinfo=UTC), "91350100M000100Y43", 0),
        (datetime(2021, 7, 31, 15, 59, tzinfo=UTC), "91350100M000100Y43", 60000),
        (datetime(2021, 7, 31, 23, 59, tzinfo=SH), "91350100M000100Y43", 60000),
        (datetime(2021, 9, 30, 23, 59, tzinfo=SH), "91350100M000100Y43", 0),
        (datetime(2021, 10, 1, 0, 0, tzinfo=SH), "91350100M000100Y43", 60000),
        (datetime(2021, 8, 3, 9, 0, tzinfo=SH), "91110000600037341L", 60000),  # other USCC
    ],
)
async def test_legacy_migration_window_comes_from_the_policy_table(
    pg: asyncpg.Connection, at: datetime, legacy_uscc: str, fee_fen: int
) -> None:
    event = submit(at=at, legacy_enterprise_uscc=legacy_uscc)
    [result] = wire_all(await handle_submitted(pg, event))
    assert (result["fee_fen"], result["legacy_migration"]) == (fee_fen, fee_fen == 0)


async def test_changed_policy_window_is_used(pg: asyncpg.Connection) -> None:
    await pg.execute(
        "UPDATE policies SET value = $1::jsonb WHERE key = 'certification.legacy_migration_window'",
        json.dumps({"from": "2021-08-04", "to": "2021-08-31"}),
    )
    [result] = wire_all(
        await handle_submitted(pg, submit(legacy_enterprise_uscc="91350100M000100Y43"))
    )
    assert result["fee_fen"] == 60000  # T0 is 08-03, before the changed window


async def test_missing_policy_is_retried_not_charged(pg: asyncpg.Connection) -> None:
    await pg.execute("DELETE FROM policies WHERE key = 'certification.legacy_migration_window'")
    with pytest.raises(TransientError) as caught:
        await handle_submitted(pg, submit(legacy_enterprise_uscc="91350100M000100Y43"))
    assert caught.value.reason == "policy_invalid"
    # Without a legacy claim the policy is not needed.
    [result] = wire_all(await handle_submitted(pg, submit()))
    assert result["fee_fen"] == 60000


async def test_domain_routes_handle_a_batch_in_delivery_order(pg: asyncpg.Connection) -> None:
    routes = {route.event_type: route for route in DOMAIN.routes if isinstance(route, Route)}
    assert len(routes) == len(DOMAIN.routes) == 2
    submitted = [
        submit(application_id="app-b", account_id="acc-b"),
        submit("interest", application_id="app-a", account_id="acc-a"),
        submit("interest", application_id="app-c", account_id="acc-b"),  # acc-b is in review
    ]
    out = await routes["certification.submitted"].handler(pg, submitted)
    assert [[r.type for r in results] for results in out] == [
        ["certification.pending_review"],
        ["certification.approved"],
        ["certification.rejected"],
    ]
    reviews = [review(application_id="app-b"), review(application_id="app-b")]
    out = await routes["certification.reviewed"].handler(pg, reviews)
    assert [[r.type for r in results] for results in out] == [["certification.approved"], []]
    assert DOMAIN.binding_keys == ("certification.*",)
    assert set(routes) == {"certification.submitted", "certification.reviewed"}


async def test_overdue_reviews_are_listed_for_monitoring(pg: asyncpg.Connection) -> None:
    now = datetime(2021, 8, 9, 12, tzinfo=SH)
    later = datetime(2021, 8, 10, 0, 1, tzinfo=SH)
    await handle_submitted(pg, submit(application_id="app-1", account_id="acc-1"))
    await handle_submitted(
        pg, submit(application_id="app-2", account_id="acc-2", at=T0 + timedelta(days=1))
    )
    await handle_submitted(pg, submit(application_id="app-3", account_id="acc-3"))
    await handle_reviewed(pg, review(application_id="app-3"))
    # app-1 is due at 08-07 00:00, app-2 (Wednesday) at 08-10 00:00; app-3 is decided.
    rows = await pg.fetch(Q.list_overdue_reviews, now, 100)
    assert [row["application_id"] for row in rows] == ["app-1"]
    assert await pg.fetchval(Q.count_overdue_reviews, now) == 1
    rows = await pg.fetch(Q.list_overdue_reviews, later, 100)
    assert [row["application_id"] for row in rows] == ["app-1", "app-2"]  # oldest due first
    assert await pg.fetchval(Q.count_overdue_reviews, later) == 2
    # The partial index keeps the listing cheap however many decided applications pile up.
    await pg.execute("SET LOCAL enable_seqscan = off")
    plan = await pg.fetch("EXPLAIN (COSTS OFF) " + Q.count_overdue_reviews, now)
    assert "certification_applications_review_due" in "\n".join(row[0] for row in plan)


async def test_compliance_reads_account_track_and_validity(pg: asyncpg.Connection) -> None:
    columns = await pg.fetch(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'professional_accounts'"
    )
    types = {row["column_name"]: row["data_type"] for row in columns}
    assert types["account_id"] == "text"
    assert types["track"] == "text"
    assert types["valid_until"] == "timestamp with time zone"


async def test_concurrent_applications_of_one_account_are_serialised(database_url: str) -> None:
    account_id = f"acc-{uuid.uuid4()}"
    first_id, second_id = f"app-{uuid.uuid4()}", f"app-{uuid.uuid4()}"
    one, two = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        tx_one, tx_two = one.transaction(), two.transaction()
        await tx_one.start()
        await tx_two.start()
        await handle_submitted(one, submit(application_id=first_id, account_id=account_id))
        second = asyncio.create_task(
            handle_submitted(two, submit(application_id=second_id, account_id=account_id))
        )
        await _wait_until_blocked(one, two.get_server_pid())
        assert not second.done()
        await tx_one.commit()
        [result] = wire_all(await second)
        assert (result["type"], result["reasons"]) == (
            "certification.rejected",
            ["application_in_progress"],
        )
        await tx_two.rollback()
    finally:
        await one.execute(
            "DELETE FROM certification_applications WHERE account_id = $1", account_id
        )
        await one.close()
        await two.close()


async def _wait_until_blocked(observer: asyncpg.Connection, pid: int) -> None:
    for _ in range(500):
        waiting = await observer.fetchval(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the second submission never waited for the account lock")
