"""Compliance end to end through the real broker and database: accounts certified by real
certification events, stores opened or refused for every type and certification state,
products reviewed per category class, flagged products settled by a reviewer, duplicates."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from harness import Bus, event, run_worker_burst

from workers import topology
from workers.runtime.outbox import result_id
from workers.settings import Settings

SH = ZoneInfo("Asia/Shanghai")
SUBMITTED_AT = datetime(2021, 8, 3, 10, 15, tzinfo=SH)
APPROVED_AT = SUBMITTED_AT + timedelta(hours=2)
OPENED_AT = SUBMITTED_AT + timedelta(days=1)
PRODUCTS_AT = SUBMITTED_AT + timedelta(days=2)
# More than a year after every approval: each certification has expired by then.
EXPIRED_AT = APPROVED_AT + timedelta(days=400)
DOMAINS = ["certification", "compliance"]

STORE_TYPES = ("personal", "individual_business", "enterprise", "flagship", "specialty")
CERT_STATES = ("none", "expired", "interest", "professional", "enterprise")
DEPOSIT_FEN = {"personal": 100000, "individual_business": 100000, "enterprise": 2000000,
               "flagship": 2000000, "specialty": 2000000}
DOCUMENTS: dict[str, dict[str, Any]] = {
    "enterprise": {"company_name": "好店科技有限公司", "uscc": "91350100M000100Y43",
                   "license_valid_until": None, "operator_name": "张三",
                   "operator_id_number": "11010519491231002X"},
    "professional": {"profession": "lawyer", "credential_number": "1" * 17,
                     "credential_valid_until": "2030-12-31", "holder_name": "李四",
                     "holder_id_number": "11010519491231002X"},
    "interest": {"field": "tea"},
}


# --- events -------------------------------------------------------------------------------


def application(account_id: str, track: str) -> dict[str, Any]:
    return event("certification.submitted", {
        "application_id": f"app-{account_id}", "account_id": account_id,
        "account_name": "好店", "track": track, track: DOCUMENTS[track]},
        source="account-service", time=SUBMITTED_AT.isoformat())


def approval(account_id: str) -> dict[str, Any]:
    return event("certification.reviewed", {
        "application_id": f"app-{account_id}", "decision": "approved", "reasons": [],
        "reviewer": "auditor-1"}, source="audit-service", time=APPROVED_AT.isoformat())


def open_request(store_id: str, account_id: str, store_type: str,
                 at: datetime = OPENED_AT, store_name: str = "阿珍的小店") -> dict[str, Any]:
    return event("store.open_requested", {
        "store_id": store_id, "account_id": account_id, "store_type": store_type,
        "store_name": store_name}, source="store-admin", time=at.isoformat())


def product(product_id: str, store_id: str = "s-shop", at: datetime = PRODUCTS_AT,
            **data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"product_id": product_id, "store_id": store_id,
                            "title": "纯棉短袖T恤", "description": "夏季新款，透气舒适。",
                            "category": "apparel", "price_fen": 9900, "qualifications": []}
    body.update(data)
    return event("product.submitted", body, source="store-admin", time=at.isoformat())


def human_review(product_id: str, decision: str, reasons: list[str]) -> dict[str, Any]:
    return event("product.reviewed", {
        "product_id": product_id, "decision": decision, "reasons": reasons,
        "reviewer": "r-7"}, source="review-desk",
        time=(PRODUCTS_AT + timedelta(hours=3)).isoformat())


def qualification(kind: str, number: str, valid_until: str | None) -> dict[str, Any]:
    return {"kind": kind, "number": number, "valid_until": valid_until}


# --- through the queue --------------------------------------------------------------------


async def process(bus: Bus, settings: Settings, *events: dict[str, Any]) -> None:
    """Publish, then run a certification + compliance worker until the queues drain."""
    await bus.publish(*events)
    await run_worker_burst(settings, DOMAINS)


async def delivered(bus: Bus, settings: Settings) -> dict[str, dict[str, Any]]:
    """Every result event committed to the outbox so far, by id, once the bus saw them all."""
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        ids = {str(r["event_id"]) for r in await conn.fetch("SELECT event_id FROM outbox")}
    finally:
        await conn.close()
    while not ids <= {r["id"] for r in bus.collected}:
        await bus.wait_results(len(bus.collected) + 1)
    return {r["id"]: r for r in bus.collected}


async def answers(bus: Bus, settings: Settings, prefix: str) -> dict[str, dict[str, Any]]:
    """The result events of one entity kind (`store.`, `product.`) by subject; each
    subject answered once."""
    found = [r for r in (await delivered(bus, settings)).values()
             if r["type"].startswith(prefix)]
    by_subject = {r["subject"]: r for r in found}
    assert len(by_subject) == len(found), [r["subject"] for r in found]
    return by_subject


def assert_answers(result: dict[str, Any], cause: dict[str, Any], subject: str) -> None:
    """A result event names its entity and the input that caused it, with a deterministic id."""
    assert (result["source"], result["subject"], result["causationid"]) == (
        "haodian", subject, cause["id"])
    assert result["id"] == str(result_id(
        result["type"], f"{cause['source']}|{cause['id']}|{subject}"))


async def certify(bus: Bus, settings: Settings, tracks: dict[str, str]) -> None:
    """Certify accounts as upstream does: submissions, then the audit's approvals."""
    await process(bus, settings, *(application(a, t) for a, t in tracks.items()))
    reviewed = [approval(a) for a, t in tracks.items() if t != "interest"]
    if reviewed:
        await process(bus, settings, *reviewed)
    approved = {r["data"]["account_id"] for r in (await delivered(bus, settings)).values()
                if r["type"] == "certification.approved"}
    assert set(tracks) <= approved


async def open_shop(bus: Bus, settings: Settings, store_id: str = "s-shop",
                    store_type: str = "enterprise", track: str = "enterprise") -> None:
    account_id = f"acc-{store_id}"
    await certify(bus, settings, {account_id: track})
    await process(bus, settings, open_request(store_id, account_id, store_type))
    assert (await answers(bus, settings, "store."))[store_id]["type"] == "store.opened"


async def fetch(settings: Settings, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def assert_nothing_dead_lettered(bus: Bus) -> None:
    for domain in DOMAINS:
        assert await bus.depth(topology.dlq_name(domain)) == 0


# --- stores -------------------------------------------------------------------------------


def expected_store_reasons(store_type: str, cert: str) -> list[str]:
    """docs/rules.md §3.2 written out: a valid certification, the enterprise track for every
    store type but personal (an expired enterprise certification: expired only)."""
    needs_enterprise = store_type != "personal"
    if cert == "none":
        return ["account_not_professional"] + (
            ["store_type_not_allowed"] if needs_enterprise else [])
    if cert == "expired":
        return ["account_not_professional"]
    if needs_enterprise and cert != "enterprise":
        return ["store_type_not_allowed"]
    return []


async def test_store_opening_for_every_store_type_and_certification_state(
        bus: Bus, settings: Settings) -> None:
    cases = [(t, c) for t in STORE_TYPES for c in CERT_STATES]
    await certify(bus, settings, {f"acc-{t}-{c}": "enterprise" if c == "expired" else c
                                  for t, c in cases if c != "none"})
    requests = {f"s-{t}-{c}": open_request(f"s-{t}-{c}", f"acc-{t}-{c}", t,
                                           EXPIRED_AT if c == "expired" else OPENED_AT)
                for t, c in cases}
    await process(bus, settings, *requests.values())

    results = await answers(bus, settings, "store.")
    assert {s: r["data"].get("reasons", []) for s, r in results.items()} == {
        f"s-{t}-{c}": expected_store_reasons(t, c) for t, c in cases}
    for store_id, result in results.items():
        assert_answers(result, requests[store_id], store_id)
    opened = {(t, c) for t, c in cases if not expected_store_reasons(t, c)}
    assert {s: (r["type"], r["data"].get("deposit_required_fen"))
            for s, r in results.items() if r["type"] == "store.opened"} == {
        f"s-{t}-{c}": ("store.opened", DEPOSIT_FEN[t]) for t, c in opened}
    rows = await fetch(settings, "SELECT store_id, account_id, store_type, status, "
                                 "deposit_required_fen FROM stores")
    assert {r["store_id"]: tuple(r)[1:] for r in rows} == {
        f"s-{t}-{c}": (f"acc-{t}-{c}", t, "open", DEPOSIT_FEN[t]) for t, c in opened}
    refused = await fetch(settings, "SELECT store_id, reasons FROM store_rejections")
    assert {r["store_id"]: r["reasons"] for r in refused} == {
        f"s-{t}-{c}": expected_store_reasons(t, c) for t, c in cases if (t, c) not in opened}
    await assert_nothing_dead_lettered(bus)


async def test_second_store_and_banned_words_are_refused_with_every_reason(
        bus: Bus, settings: Settings) -> None:
    await open_shop(bus, settings, "s-first", "personal", "professional")
    second = open_request("s-second", "acc-s-first", "enterprise", store_name="阿珍官方旗舰店")
    await process(bus, settings, second)

    result = (await answers(bus, settings, "store."))["s-second"]
    assert result["type"] == "store.rejected"
    assert result["data"]["reasons"] == ["account_has_store", "store_type_not_allowed",
                                         "store_name_banned_word"]
    assert set(result["data"]["banned_words"]) == {"官方", "旗舰"}
    assert_answers(result, second, "s-second")
    rows = await fetch(settings, "SELECT store_id FROM stores WHERE account_id = 'acc-s-first'")
    assert [r["store_id"] for r in rows] == ["s-first"]


# --- products -----------------------------------------------------------------------------

SPECIAL = "cosmetics_registration"
FILING = "cosmetics_filing"
# product_id: (category, qualifications, result type, reasons)
CATEGORY_CASES: dict[str, tuple[str, list[dict[str, Any]], str, list[str]]] = {
    "p-ordinary": ("apparel", [], "product.approved", []),
    "p-special-good": ("cosmetics_special", [qualification(
        SPECIAL, "国妆特字G20210001", "2025-01-01")], "product.approved", []),
    "p-filing-good": ("cosmetics_ordinary", [qualification(
        FILING, "粤G妆网备字2021000001", None)], "product.approved", []),
    "p-food-good": ("food", [qualification(
        "food_production_license", "SC10644030500123", None)], "product.approved", []),
    "p-filing-bad": ("cosmetics_ordinary", [qualification(
        FILING, "港G妆网备字2021000001", None)], "product.rejected", ["qualification_invalid"]),
    "p-special-expired": ("cosmetics_special", [qualification(
        SPECIAL, "国妆特进字J20210001", "2021-08-04")], "product.rejected",
        ["qualification_expired"]),
    "p-food-missing": ("food", [], "product.rejected", ["qualification_missing"]),
    "p-prohibited": ("tobacco", [], "product.rejected", ["category_prohibited"]),
    "p-unknown": ("fireworks", [], "product.rejected", ["category_unknown"]),
}


async def test_product_review_for_each_category_class(bus: Bus, settings: Settings) -> None:
    await open_shop(bus, settings)
    submitted = {pid: product(pid, category=category, qualifications=quals)
                 for pid, (category, quals, _, _) in CATEGORY_CASES.items()}
    await process(bus, settings, *submitted.values())

    results = await answers(bus, settings, "product.")
    assert {p: (r["type"], r["data"]["reasons"]) for p, r in results.items()} == {
        p: (kind, reasons) for p, (_, _, kind, reasons) in CATEGORY_CASES.items()}
    for product_id, result in results.items():
        assert_answers(result, submitted[product_id], product_id)
        assert result["data"]["store_id"] == "s-shop"
    rows = await fetch(settings, "SELECT product_id, status, reasons, category FROM products")
    assert {r["product_id"]: (r["status"], r["reasons"], r["category"]) for r in rows} == {
        p: (kind.removeprefix("product."), reasons, category)
        for p, (category, _, kind, reasons) in CATEGORY_CASES.items()}
    shelf = await fetch(settings, "SELECT product_id FROM products WHERE store_id = 's-shop' "
                                  "AND status IN ('approved', 'listed') ORDER BY product_id")
    assert [r["product_id"] for r in shelf] == sorted(
        p for p, case in CATEGORY_CASES.items() if case[2] == "product.approved")
    await assert_nothing_dead_lettered(bus)


async def test_product_of_a_store_whose_certification_expired_meanwhile_is_refused(
        bus: Bus, settings: Settings) -> None:
    await open_shop(bus, settings)
    before = product("p-before")
    after = product("p-after", at=EXPIRED_AT)
    nowhere = product("p-nowhere", store_id="s-never-opened")
    await process(bus, settings, before, after, nowhere)

    results = await answers(bus, settings, "product.")
    assert {p: (r["type"], r["data"]["reasons"]) for p, r in results.items()} == {
        "p-before": ("product.approved", []),
        "p-after": ("product.rejected", ["certification_expired"]),
        "p-nowhere": ("product.rejected", ["store_not_open"]),
    }
    assert_answers(results["p-after"], after, "p-after")
    rows = await fetch(settings, "SELECT product_id, status FROM products")
    assert {r["product_id"]: r["status"] for r in rows} == {
        "p-before": "approved", "p-after": "rejected", "p-nowhere": "rejected"}


async def test_flagged_products_are_settled_by_the_reviewer(bus: Bus, settings: Settings) -> None:
    await open_shop(bus, settings)
    submitted = [product("p-keep", title="全网ＮＯ．１纯棉T恤"),
                 product("p-drop", description="销量冠军，品质最佳")]
    await process(bus, settings, *submitted)
    flagged = await answers(bus, settings, "product.")
    assert {p: (r["type"], r["data"]["terms"]) for p, r in flagged.items()} == {
        "p-keep": ("product.flagged", ["NO.1"]),
        "p-drop": ("product.flagged", ["最佳", "销量冠军"]),
    }
    assert flagged["p-keep"]["data"]["matches"] == [{"term": "NO.1", "field": "title"}]

    reviews = [human_review("p-keep", "approved", []),
               human_review("p-drop", "rejected", ["misleading_claim"])]
    await process(bus, settings, *reviews)
    settled = {r["subject"]: r for r in (await delivered(bus, settings)).values()
               if r["causationid"] in {e["id"] for e in reviews}}
    assert {p: (r["type"], r["data"]["reasons"], r["data"]["reviewer"])
            for p, r in settled.items()} == {
        "p-keep": ("product.approved", [], "r-7"),
        "p-drop": ("product.rejected", ["misleading_claim"], "r-7"),
    }
    assert settled["p-keep"]["data"]["status"] == "listed"
    for review in reviews:
        product_id = review["data"]["product_id"]
        assert_answers(settled[product_id], review, product_id)
    rows = await fetch(settings, "SELECT product_id, status, reasons FROM products")
    assert {r["product_id"]: (r["status"], r["reasons"]) for r in rows} == {
        "p-keep": ("listed", []), "p-drop": ("rejected", ["misleading_claim"])}
    history = await fetch(settings, "SELECT product_id, kind, status FROM product_reviews "
                                    "ORDER BY id")
    assert sorted(tuple(h) for h in history) == [
        ("p-drop", "automatic", "flagged"), ("p-drop", "human", "rejected"),
        ("p-keep", "automatic", "flagged"), ("p-keep", "human", "listed")]
    await assert_nothing_dead_lettered(bus)


async def test_resubmission_in_one_batch_keeps_history_and_a_conflict_goes_alone(
        bus: Bus, settings: Settings) -> None:
    await open_shop(bus, settings)
    await open_shop(bus, settings, "s-other")
    first = product("p-fix", category="food")
    fixed = product("p-fix", at=PRODUCTS_AT + timedelta(hours=1), category="food",
                    qualifications=[qualification(
                        "food_business_license", "JY14403050012345", None)])
    claimed = product("p-fix", "s-other", at=PRODUCTS_AT + timedelta(hours=2))
    neighbour = product("p-neighbour")
    await process(bus, settings, first, fixed, claimed, neighbour)

    caused = {r["causationid"]: r for r in (await delivered(bus, settings)).values()}
    assert {e["id"]: (caused[e["id"]]["type"], caused[e["id"]]["data"]["reasons"])
            for e in (first, fixed, claimed, neighbour)} == {
        first["id"]: ("product.rejected", ["qualification_missing"]),
        fixed["id"]: ("product.approved", []),
        claimed["id"]: ("event.rejected", ["product_store_conflict"]),
        neighbour["id"]: ("product.approved", []),
    }
    dead = await bus.take_all(topology.dlq_name("compliance"))
    assert [str(m.headers["x-haodian-reason"]) for m in dead] == ["product_store_conflict"]
    history = await fetch(settings, "SELECT id, status FROM product_reviews "
                                    "WHERE product_id = 'p-fix' ORDER BY id")
    assert [h["status"] for h in history] == ["rejected", "approved"]
    row = (await fetch(settings, "SELECT * FROM products WHERE product_id = 'p-fix'"))[0]
    assert (row["store_id"], row["status"], row["review_id"]) == (
        "s-shop", "approved", history[1]["id"])


# --- duplicates ---------------------------------------------------------------------------


async def test_duplicates_have_their_effects_once(bus: Bus, settings: Settings) -> None:
    await certify(bus, settings, {"acc-dup": "enterprise"})
    opening = open_request("s-dup", "acc-dup", "enterprise")
    await process(bus, settings, opening, opening)  # twice in one batch
    await process(bus, settings, opening)  # and again in a later one
    submission = product("p-dup", "s-dup", title="首选好物")
    await process(bus, settings, submission, submission)
    await process(bus, settings, submission)
    review = human_review("p-dup", "approved", [])
    await process(bus, settings, review, review)
    await process(bus, settings, review)

    results = [r for r in (await delivered(bus, settings)).values()
               if r["causationid"] in {opening["id"], submission["id"], review["id"]}]
    assert sorted((r["type"], r["causationid"]) for r in results) == sorted([
        ("store.opened", opening["id"]), ("product.flagged", submission["id"]),
        ("product.approved", review["id"])])
    counts = await fetch(settings, """
        SELECT (SELECT count(*) FROM stores) AS stores,
               (SELECT count(*) FROM store_rejections) AS store_rejections,
               (SELECT count(*) FROM products) AS products,
               (SELECT count(*) FROM product_reviews) AS reviews,
               (SELECT count(*) FROM inbox WHERE domain = 'compliance') AS inbox""")
    assert dict(counts[0]) == {"stores": 1, "store_rejections": 0, "products": 1,
                               "reviews": 2, "inbox": 3}
    await assert_nothing_dead_lettered(bus)
