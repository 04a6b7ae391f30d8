"""Compliance handlers against a real, migrated PostgreSQL database."""

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from published import wire_all

from handlers.base import Incoming, PermanentError, TransientError
from handlers.compliance import DOMAIN
from handlers.compliance.handle import (
    handle_product_reviewed,
    handle_product_submitted,
    handle_store_open_requested,
)
from handlers.queries import load_queries
from schema.compliance import INPUTS

Q = load_queries("compliance")
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2021, 8, 3, 10, 15, tzinfo=SH)
STORE_TYPES = ("personal", "individual_business", "enterprise", "flagship", "specialty")
DEPOSIT_FEN = {"personal": 100000, "individual_business": 100000, "enterprise": 2000000,
               "flagship": 2000000, "specialty": 2000000}
OWN_TABLES = ("product_reviews", "products", "store_rejections", "stores",
              "professional_accounts", "certification_applications")
_ids = count(1)


@pytest.fixture
async def pg(pg: asyncpg.Connection) -> asyncpg.Connection:
    """The shared `pg` connection with the tables these tests read emptied inside the
    test's own transaction (rolled back with it): worker tests commit rows to the session
    database."""
    for table in OWN_TABLES:
        await pg.execute(f"DELETE FROM {table}")
    return pg


async def certify(db: Any, account_id: str = "a-1", track: str = "enterprise",
                  valid_until: datetime = T0 + timedelta(days=365)) -> None:
    """A professional account as the certification domain leaves it."""
    certified_at = valid_until - timedelta(days=365)
    app_id = f"app-{account_id}"
    await db.execute(
        """INSERT INTO certification_applications (application_id, account_id, account_name,
               track, status, fee_fen, submitted_at, decided_at, valid_until, event_source,
               event_id)
           VALUES ($1, $2, '好店', $3, 'approved', 0, $4, $4, $5, 'test', $1)""",
        app_id, account_id, track, certified_at, valid_until)
    await db.execute(
        """INSERT INTO professional_accounts (account_id, account_name, track, application_id,
               certified_at, valid_until) VALUES ($1, '好店', $2, $3, $4, $5)""",
        account_id, track, app_id, certified_at, valid_until)


def event(event_type: str, at: datetime = T0, **data: Any) -> Incoming[Any]:
    """An input event, its data validated as the runtime does it (JSON mode)."""
    model = INPUTS[event_type].model_validate_json(json.dumps(data))
    return Incoming(f"evt-{next(_ids)}", "upstream", event_type, at, model)


def open_request(store_id: str = "s-1", account_id: str = "a-1", store_type: str = "personal",
                 store_name: str = "阿珍的小店", at: datetime = T0) -> Incoming[Any]:
    return event("store.open_requested", at, store_id=store_id, account_id=account_id,
                 store_type=store_type, store_name=store_name)


def submission(product_id: str = "p-1", store_id: str = "s-1", at: datetime = T0,
               **data: Any) -> Incoming[Any]:
    body: dict[str, Any] = {"title": "纯棉短袖T恤", "description": "夏季新款，透气舒适。",
                            "category": "apparel", "price_fen": 9900, "qualifications": []}
    body.update(data)
    return event("product.submitted", at, product_id=product_id, store_id=store_id, **body)


def review(decision: str = "approved", reasons: Sequence[str] = (), product_id: str = "p-1",
           at: datetime = T0 + timedelta(hours=2)) -> Incoming[Any]:
    return event("product.reviewed", at, product_id=product_id, decision=decision,
                 reasons=list(reasons), reviewer="r-7")


async def open_store(db: Any, store_id: str = "s-1", account_id: str = "a-1",
                     store_type: str = "enterprise", track: str = "enterprise",
                     valid_until: datetime = T0 + timedelta(days=365)) -> None:
    await certify(db, account_id, track, valid_until)
    [[result]] = await handle_store_open_requested(
        db, [open_request(store_id, account_id, store_type, "好店")])
    assert result.type == "store.opened"


async def submit_one(db: Any, event: Incoming[Any]) -> dict[str, Any]:
    [results] = await handle_product_submitted(db, [event])
    [result] = wire_all(results)
    return result


# --- seeded policy data --------------------------------------------------------------------


async def test_seeded_policy_tables_hold_design_values(pg: asyncpg.Connection) -> None:
    classes = dict(await pg.fetch("SELECT category, category_class FROM categories"))
    assert {c for c, k in classes.items() if k == "ordinary"} == {
        "apparel", "home", "digital", "books", "sports", "mother_baby"}
    assert {c for c, k in classes.items() if k == "restricted"} == {
        "cosmetics_special", "cosmetics_ordinary", "food"}
    assert {c for c, k in classes.items() if k == "prohibited"} == {
        "tobacco", "weapons", "prescription_drugs", "gambling"}
    deposits = dict(await pg.fetch(
        "SELECT store_type, required_fen FROM deposit_requirements WHERE plan = 'standard'"))
    assert deposits == DEPOSIT_FEN
    banned = await pg.fetch(
        "SELECT store_type, count(*) FROM store_name_banned_words GROUP BY store_type")
    assert dict(banned) == {"personal": 13, "individual_business": 13, "enterprise": 13}
    provinces = [r[0] for r in await pg.fetch("SELECT short_name FROM provinces")]
    assert len(provinces) == 31 and {"粤", "京", "沪", "黔", "滇"} <= set(provinces)
    assert await pg.fetchval("SELECT count(*) FROM advertising_terms") == 17


def test_domain_registers_every_input_with_its_model() -> None:
    assert DOMAIN.binding_keys == ("store.*", "product.*")
    assert {r.event_type: r.model for r in DOMAIN.routes} == INPUTS


# --- store.open_requested -----------------------------------------------------------------

CERT_STATES = ("none", "expired", "interest", "professional", "enterprise")


def expected_store_reasons(store_type: str, cert: str) -> list[str]:
    """docs/rules.md §3.2 written out: a valid certification, the enterprise track for every
    store type but personal."""
    needs_enterprise = store_type != "personal"
    if cert == "none":
        return ["account_not_professional"] + (
            ["store_type_not_allowed"] if needs_enterprise else [])
    if cert == "expired":
        return ["account_not_professional"]
    if needs_enterprise and cert != "enterprise":
        return ["store_type_not_allowed"]
    return []


@pytest.mark.parametrize("cert", CERT_STATES)
@pytest.mark.parametrize("store_type", STORE_TYPES)
async def test_store_opening_per_type_and_certification(pg: asyncpg.Connection,
                                                         store_type: str, cert: str) -> None:
    if cert == "expired":
        await certify(pg, track="enterprise", valid_until=T0 - timedelta(days=1))
    elif cert != "none":
        await certify(pg, track=cert)
    [results] = await handle_store_open_requested(pg, [open_request(store_type=store_type,
                                                                     store_name="好店")])
    [result] = wire_all(results)
    store = await pg.fetchrow(Q.get_store, "s-1")
    reasons = expected_store_reasons(store_type, cert)
    if reasons:
        assert result == {"type": "store.rejected", "subject": "s-1", "store_id": "s-1",
                          "account_id": "a-1", "store_type": store_type, "reasons": reasons,
                          "banned_words": []}
        assert store is None
        rejection = await pg.fetchrow("SELECT * FROM store_rejections WHERE store_id = 's-1'")
        assert rejection["reasons"] == reasons
    else:
        assert result == {"type": "store.opened", "subject": "s-1", "store_id": "s-1",
                          "account_id": "a-1", "store_type": store_type, "store_name": "好店",
                          "deposit_plan": "standard",
                          "deposit_required_fen": DEPOSIT_FEN[store_type],
                          "opened_at": "2021-08-03T10:15:00+08:00"}
        assert (store["status"], store["deposit_required_fen"], store["opened_at"]) == (
            "open", DEPOSIT_FEN[store_type], T0)


async def test_banned_words_and_every_reason_at_once(pg: asyncpg.Connection) -> None:
    await open_store(pg, "s-0", "a-1", "personal", "interest")
    [results] = await handle_store_open_requested(pg, [open_request(
        "s-1", "a-1", "enterprise", "好店官方授权旗舰店")])
    [result] = wire_all(results)
    assert result["reasons"] == ["account_has_store", "store_type_not_allowed",
                                 "store_name_banned_word"]
    assert set(result["banned_words"]) == {"官方授权", "旗舰"}


async def test_one_store_per_account_within_one_batch(pg: asyncpg.Connection) -> None:
    await certify(pg, track="professional")
    batch = [open_request("s-1"), open_request("s-2")]
    first, second = await handle_store_open_requested(pg, batch)
    assert [r.type for r in first] == ["store.opened"]
    assert wire_all(second)[0]["reasons"] == ["account_has_store"]
    assert await pg.fetchval("SELECT count(*) FROM stores WHERE account_id = 'a-1'") == 1


async def test_store_is_bound_one_to_one_in_postgresql(pg: asyncpg.Connection) -> None:
    await open_store(pg, "s-1", "a-1")
    with pytest.raises(asyncpg.UniqueViolationError):
        async with pg.transaction():
            await pg.execute(
                """INSERT INTO stores (store_id, account_id, store_type, store_name,
                       deposit_required_fen, opened_at, event_source, event_id)
                   VALUES ('s-2', 'a-1', 'personal', 'x', 100000, now(), 't', 't')""")


async def test_same_request_again_has_no_new_effects(pg: asyncpg.Connection) -> None:
    await certify(pg)
    await handle_store_open_requested(pg, [open_request()])
    assert await handle_store_open_requested(pg, [open_request()]) == [[]]
    assert await pg.fetchval("SELECT count(*) FROM store_rejections") == 0


async def test_store_id_of_another_account_is_a_conflict(pg: asyncpg.Connection) -> None:
    await open_store(pg, "s-1", "a-1")
    await certify(pg, "a-2")
    with pytest.raises(PermanentError) as err:
        await handle_store_open_requested(pg, [open_request("s-1", "a-2")])
    assert err.value.reason == "store_id_conflict"


async def wait_for_lock(observer: asyncpg.Connection, pid: int) -> None:
    """Until the backend `pid` waits for a row lock (at most about 5 s)."""
    for _ in range(500):
        if await observer.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 "
                                   "AND wait_event_type = 'Lock'", pid):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for a lock")


async def test_concurrent_openings_for_one_account_bind_one_store(database_url: str) -> None:
    """Two workers open two stores for one account at once: the loser retries."""
    setup, a, b = [await asyncpg.connect(database_url) for _ in range(3)]
    try:
        await certify(setup, "race-acc", track="professional")
        ta, tb = a.transaction(), b.transaction()
        await ta.start()
        await tb.start()
        [[won]] = await handle_store_open_requested(a, [open_request("race-1", "race-acc")])
        assert won.type == "store.opened"
        loser = asyncio.create_task(
            handle_store_open_requested(b, [open_request("race-2", "race-acc")]))
        await wait_for_lock(setup, b.get_server_pid())
        await ta.commit()
        with pytest.raises(TransientError) as err:
            await loser
        assert err.value.reason == "store_open_contended"
        await tb.rollback()
        [[retried]] = await handle_store_open_requested(b, [open_request("race-2", "race-acc")])
        assert wire_all([retried])[0]["reasons"] == ["account_has_store"]
    finally:
        await setup.execute("DELETE FROM store_rejections WHERE account_id = 'race-acc'")
        await setup.execute("DELETE FROM stores WHERE account_id = 'race-acc'")
        await setup.execute("DELETE FROM professional_accounts WHERE account_id = 'race-acc'")
        await setup.execute(
            "DELETE FROM certification_applications WHERE account_id = 'race-acc'")
        for conn in (setup, a, b):
            await conn.close()


# --- product.submitted --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "qualifications", "status", "reasons"),
    [
        ("apparel", [], "approved", []),
        ("mother_baby", [], "approved", []),
        ("cosmetics_special", [{"kind": "cosmetics_registration", "number": "国妆特进字J20210001",
                                "valid_until": "2025-01-01"}], "approved", []),
        ("cosmetics_ordinary", [{"kind": "cosmetics_filing",
                                 "number": "国妆网备进字（粤）2021000001", "valid_until": None}],
         "approved", []),
        ("food", [{"kind": "food_business_license", "number": "JY14403050012345",
                   "valid_until": None}], "approved", []),
        ("food", [], "rejected", ["qualification_missing"]),
        ("cosmetics_ordinary", [{"kind": "cosmetics_filing", "number": "港G妆网备字2021000001",
                                 "valid_until": None}], "rejected", ["qualification_invalid"]),
        ("cosmetics_special", [{"kind": "cosmetics_registration", "number": "国妆特字G20210001",
                                "valid_until": "2021-08-02"}], "rejected",
         ["qualification_expired"]),
        ("gambling", [], "rejected", ["category_prohibited"]),
        ("fireworks", [], "rejected", ["category_unknown"]),
    ],
)
async def test_product_review_per_category_class(pg: asyncpg.Connection, category: str,
                                                 qualifications: list[dict[str, Any]],
                                                 status: str, reasons: list[str]) -> None:
    await open_store(pg)
    result = await submit_one(pg, submission(category=category, qualifications=qualifications))
    assert result["type"] == f"product.{status}"
    assert (result["product_id"], result["store_id"], result["reasons"]) == (
        "p-1", "s-1", reasons)
    row = await pg.fetchrow("SELECT * FROM products WHERE product_id = 'p-1'")
    assert (row["status"], row["reasons"], row["category"]) == (status, reasons, category)
    shelf = [r["product_id"] for r in await pg.fetch(Q.list_store_shelf, "s-1")]
    assert shelf == (["p-1"] if status == "approved" else [])


async def test_store_rules_for_products(pg: asyncpg.Connection) -> None:
    await open_store(pg, "s-p", "a-p", "personal", "professional")
    await open_store(pg, "s-f", "a-f", "flagship")
    baby = await submit_one(pg, submission("p-1", "s-p", category="mother_baby"))
    assert baby["reasons"] == ["category_not_allowed_for_store_type"]
    branded = await submit_one(pg, submission("p-2", "s-f", brand="好牌"))
    assert branded["reasons"] == ["brand_authorization_missing"]
    authorised = await submit_one(pg, submission("p-3", "s-f", brand="好牌", qualifications=[
        {"kind": "brand_authorization", "number": "AUTH-1", "valid_until": "2022-01-01"}]))
    assert authorised["type"] == "product.approved"
    unknown = await submit_one(pg, submission("p-4", "s-nowhere"))
    assert unknown["reasons"] == ["store_not_open"]


async def test_product_from_a_store_whose_certification_expired_is_refused(
        pg: asyncpg.Connection) -> None:
    await open_store(pg, valid_until=T0 + timedelta(days=10))
    later = T0 + timedelta(days=20)
    result = await submit_one(pg, submission(at=later, title="第一好穿"))
    assert (result["type"], result["reasons"]) == ("product.rejected", ["certification_expired"])


async def test_absolute_terms_flag_the_product_with_where_they_were_found(
        pg: asyncpg.Connection) -> None:
    await open_store(pg)
    result = await submit_one(pg, submission(title="全网ＮＯ．１纯棉T恤",
                                             description="销量冠军，品质最佳"))
    assert result == {
        "type": "product.flagged", "subject": "p-1", "product_id": "p-1", "store_id": "s-1",
        "reasons": ["absolute_advertising_term"],
        "terms": ["NO.1", "最佳", "销量冠军"],
        "matches": [{"term": "NO.1", "field": "title"},
                    {"term": "最佳", "field": "description"},
                    {"term": "销量冠军", "field": "description"}],
    }
    row = await pg.fetchrow("SELECT status, terms FROM products WHERE product_id = 'p-1'")
    assert (row["status"], sorted(row["terms"])) == ("flagged", sorted(result["terms"]))


async def test_policy_tables_change_decisions_without_a_release(pg: asyncpg.Connection) -> None:
    await open_store(pg)
    await pg.execute("INSERT INTO advertising_terms (term) VALUES ('良心')")
    await pg.execute("UPDATE categories SET category_class = 'prohibited' WHERE category = 'books'")
    assert (await submit_one(pg, submission("p-1", title="良心好货")))["terms"] == ["良心"]
    assert (await submit_one(pg, submission("p-2", category="books")))["reasons"] == [
        "category_prohibited"]


async def test_resubmission_is_a_new_review_and_keeps_history(pg: asyncpg.Connection) -> None:
    await open_store(pg)
    first = await submit_one(pg, submission(category="food"))
    assert first["reasons"] == ["qualification_missing"]
    fixed = submission(at=T0 + timedelta(hours=1), category="food", qualifications=[
        {"kind": "food_production_license", "number": "SC10644030500123", "valid_until": None}])
    assert (await submit_one(pg, fixed))["type"] == "product.approved"
    # an older version arriving late is reviewed and kept in history, but does not win
    stale = submission(at=T0 - timedelta(hours=1), category="tobacco")
    assert (await submit_one(pg, stale))["reasons"] == ["category_prohibited"]
    row = await pg.fetchrow("SELECT * FROM products WHERE product_id = 'p-1'")
    assert (row["status"], row["category"], row["submitted_at"]) == (
        "approved", "food", T0 + timedelta(hours=1))
    history = await pg.fetch(
        "SELECT kind, status, reasons, submission::text AS s FROM product_reviews "
        "WHERE product_id = 'p-1' ORDER BY id")
    assert [(h["kind"], h["status"]) for h in history] == [
        ("automatic", "rejected"), ("automatic", "approved"), ("automatic", "rejected")]
    assert json.loads(history[1]["s"])["qualifications"][0]["number"] == "SC10644030500123"
    assert row["review_id"] == (await pg.fetchval(
        "SELECT id FROM product_reviews WHERE product_id = 'p-1' AND status = 'approved'"))


async def test_product_id_of_another_store_is_a_conflict(pg: asyncpg.Connection) -> None:
    await open_store(pg)
    await submit_one(pg, submission("p-1", "s-1"))
    with pytest.raises(PermanentError) as err:
        await handle_product_submitted(pg, [submission("p-1", "s-2")])
    assert err.value.reason == "product_store_conflict"


# --- product.reviewed ---------------------------------------------------------------------


async def test_approved_review_lists_a_flagged_product(pg: asyncpg.Connection) -> None:
    await open_store(pg)
    await submit_one(pg, submission(title="首选好物"))
    [results] = await handle_product_reviewed(pg, [review("approved")])
    assert wire_all(results) == [{"type": "product.approved", "subject": "p-1", "product_id": "p-1",
                              "store_id": "s-1", "status": "listed", "reasons": [],
                              "reviewer": "r-7"}]
    assert [r["status"] for r in await pg.fetch(Q.list_store_shelf, "s-1")] == ["listed"]
    kinds = await pg.fetch("SELECT kind, status, reviewer FROM product_reviews ORDER BY id")
    assert [tuple(k) for k in kinds] == [("automatic", "flagged", None),
                                         ("human", "listed", "r-7")]


async def test_rejected_review_takes_the_reviewer_reasons(pg: asyncpg.Connection) -> None:
    await open_store(pg)
    await submit_one(pg, submission(title="首选好物"))
    [results] = await handle_product_reviewed(pg, [review("rejected", ["misleading_claim"])])
    assert wire_all(results)[0]["reasons"] == ["misleading_claim"]
    row = await pg.fetchrow("SELECT status, reasons FROM products WHERE product_id = 'p-1'")
    assert (row["status"], row["reasons"]) == ("rejected", ["misleading_claim"])


async def test_review_of_an_unknown_product_waits_for_it(pg: asyncpg.Connection) -> None:
    with pytest.raises(TransientError) as err:
        await handle_product_reviewed(pg, [review(product_id="p-later")])
    assert err.value.reason == "product_unknown"


async def test_review_of_a_product_not_flagged_is_refused(pg: asyncpg.Connection) -> None:
    await open_store(pg)
    await submit_one(pg, submission())
    with pytest.raises(PermanentError) as err:
        await handle_product_reviewed(pg, [review("rejected", ["x"])])
    assert err.value.reason == "product_not_flagged"
    assert await pg.fetchval("SELECT status FROM products") == "approved"
