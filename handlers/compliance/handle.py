"""Compliance handlers: load policy data and rows, apply the rules, write rows, return results.

Each handler takes a whole batch of its event type: the policy tables are read once per
batch (operators change them without a release, so they are never cached longer).
Product submissions, the hot path, then read and write the whole batch at once; store
openings and human reviews (rare) run one after another in the batch's transaction.
"""

from collections.abc import Sequence
from typing import Any

import orjson

from handlers.base import SHANGHAI, Db, Incoming, PermanentError, Result, TransientError
from handlers.compliance import rules
from handlers.queries import load_queries
from schema.compliance import (
    ProductApproved,
    ProductFlagged,
    ProductRejected,
    ProductReviewed,
    ProductSubmitted,
    StoreOpened,
    StoreOpenRequested,
    StoreRejected,
    TermMatch,
)

Q = load_queries("compliance")


# --- policy data --------------------------------------------------------------------------


async def load_policies(db: Db) -> tuple[dict[str, rules.StoreTypePolicy], rules.Taxonomy]:
    """The store-type policies and the product taxonomy, read in one round trip."""
    row = await db.fetchrow(Q.get_policy_snapshot)
    policies = {
        t["store_type"]: rules.StoreTypePolicy(
            required_track=t["required_track"],
            deposit_required_fen=int(t["deposit_required_fen"]),
            brand_qualification_kind=t["brand_qualification_kind"],
            banned_words=tuple(t["banned_words"]),
        )
        for t in orjson.loads(row["store_types"])
    }
    categories = {
        c["category"]: rules.Category(
            code=c["category"],
            category_class=c["category_class"],
            requirements=tuple(frozenset(kinds) for kinds in c["requirements"]),
            excluded_store_types=frozenset(c["excluded_store_types"]),
        )
        for c in orjson.loads(row["categories"])
    }
    taxonomy = rules.Taxonomy(
        categories=categories,
        kind_formats=orjson.loads(row["kind_formats"]),
        provinces=tuple(row["provinces"]),
        terms=tuple(row["terms"]),
    )
    return policies, taxonomy


def _store(row: Any) -> rules.Store | None:
    if row is None:
        return None
    return rules.Store(row["store_id"], row["account_id"], row["store_type"],
                       row["store_name"], row["status"])


async def _certification(db: Db, account_id: str) -> rules.Certification | None:
    row = await db.fetchrow(Q.get_certification, account_id)
    return None if row is None else rules.Certification(row["track"], row["valid_until"])


# --- store.open_requested -----------------------------------------------------------------


async def handle_store_open_requested(
    db: Db, events: Sequence[Incoming[StoreOpenRequested]]
) -> list[list[Result]]:
    """Open each requested store (bound to its account) or refuse it with every reason."""
    policies, _ = await load_policies(db)
    return [await _open_store(db, event, policies) for event in events]


async def _open_store(
    db: Db, event: Incoming[StoreOpenRequested], policies: dict[str, rules.StoreTypePolicy]
) -> list[Result]:
    data = event.data
    request = rules.StoreRequest(data.store_id, data.account_id, data.store_type,
                                 data.store_name)
    repeat = rules.check_store_repeat(_store(await db.fetchrow(Q.get_store, data.store_id)),
                                      request)
    if repeat == "same":
        return []  # the store is already open exactly as asked: no new effects
    if repeat == "conflict":
        raise PermanentError("store_id_conflict", f"store {data.store_id} is already open "
                             "with another account, type or name")
    if await db.fetchval(Q.check_store_request_refused, event.source, event.id):
        return []  # this very request was refused before: the refusal stands, once
    policy = policies.get(data.store_type)
    if policy is None:
        raise PermanentError("store_type_unconfigured", f"no policy row for {data.store_type}")

    decision = rules.decide_store_opening(
        request,
        await _certification(db, data.account_id),
        bool(await db.fetchval(Q.check_account_has_store, data.account_id)),
        policy,
        event.time,
    )
    if decision.deposit_required_fen is None:
        await db.execute(Q.insert_store_rejection, data.store_id, data.account_id,
                         data.store_type, data.store_name, list(decision.reasons),
                         list(decision.banned_words), event.time, event.source, event.id)
        return [Result("store.rejected", data.store_id, StoreRejected(
            store_id=data.store_id, account_id=data.account_id, store_type=data.store_type,
            reasons=list(decision.reasons), banned_words=list(decision.banned_words)))]

    inserted = await db.fetchval(Q.insert_store, data.store_id, data.account_id,
                                 data.store_type, data.store_name,
                                 decision.deposit_required_fen, event.time, event.source,
                                 event.id)
    if inserted is None:
        # Another transaction bound this account or store id after our checks: retry, and
        # the retry sees its row (account_has_store, or the same store again).
        raise TransientError("store_open_contended", f"store {data.store_id}")
    return [Result("store.opened", data.store_id, StoreOpened(
        store_id=data.store_id, account_id=data.account_id, store_type=data.store_type,
        store_name=data.store_name, deposit_plan="standard",
        deposit_required_fen=decision.deposit_required_fen,
        opened_at=event.time.astimezone(SHANGHAI)))]


# --- product.submitted --------------------------------------------------------------------


async def handle_product_submitted(
    db: Db, events: Sequence[Incoming[ProductSubmitted]]
) -> list[list[Result]]:
    """Review each submitted product version: approved, rejected (all reasons) or flagged.

    The batch costs a constant number of round trips: replays already reviewed, policy
    data, the products locked, their stores with certifications, then one statement
    writing every review."""
    if not events:
        return []
    reviewed = await _reviewed_events(db, events)
    replays = [(e.source, e.id) in reviewed for e in events]
    events = [e for e, replay in zip(events, replays, strict=True) if not replay]
    if not events:
        return [[] for _ in replays]
    policies, taxonomy = await load_policies(db)
    owners: dict[str, str] = {r["product_id"]: r["store_id"] for r in await db.fetch(
        Q.lock_products, sorted({e.data.product_id for e in events}))}
    shops = {r["store_id"]: r for r in await db.fetch(
        Q.get_stores_with_certification, sorted({e.data.store_id for e in events}))}
    reviews: list[dict[str, Any]] = []
    results: list[list[Result]] = []
    for event in events:
        data = event.data
        owner = owners.setdefault(data.product_id, data.store_id)
        if owner != data.store_id:
            raise PermanentError("product_store_conflict",
                                 f"product {data.product_id} belongs to store {owner}")
        shop = shops.get(data.store_id)
        decision = rules.decide_product(_facts(data), _store(shop), _shop_certification(shop),
                                        policies, taxonomy, event.time)
        reviews.append({
            "submission": data.model_dump(mode="json"), "status": decision.status,
            "reasons": decision.reasons, "terms": decision.terms,
            "matches": _matches(decision), "submitted_at": event.time.isoformat(),
            "event_source": event.source, "event_id": event.id})
        results.append([_product_result(data.product_id, data.store_id, decision, None)])
    await db.execute(Q.insert_submission_reviews, _json(reviews))
    fresh = iter(results)
    return [[] if replay else next(fresh) for replay in replays]


async def _reviewed_events(db: Db, events: Sequence[Incoming[Any]]) -> set[tuple[str, str]]:
    """Events of the batch already in the review history: replays the inbox has forgotten
    (docs/operations.md, Retention); they review nothing again and answer nothing."""
    rows = await db.fetch(Q.list_reviewed_events, [e.source for e in events],
                          [e.id for e in events])
    return {(r["event_source"], r["event_id"]) for r in rows}


def _facts(data: ProductSubmitted) -> rules.ProductFacts:
    return rules.ProductFacts(
        title=data.title, description=data.description, category=data.category,
        brand=data.brand,
        qualifications=tuple(rules.QualificationDoc(q.kind, q.number, q.valid_until)
                             for q in data.qualifications),
    )


def _shop_certification(row: Any) -> rules.Certification | None:
    """The certification joined to a store row (None: no store, or never certified)."""
    if row is None or row["track"] is None:
        return None
    return rules.Certification(row["track"], row["valid_until"])


# --- product.reviewed ---------------------------------------------------------------------


async def handle_product_reviewed(
    db: Db, events: Sequence[Incoming[ProductReviewed]]
) -> list[list[Result]]:
    """Settle flagged products with the human reviewer's decision."""
    return [await _settle_review(db, event) for event in events]


async def _settle_review(db: Db, event: Incoming[ProductReviewed]) -> list[Result]:
    data = event.data
    current = await db.fetchrow(Q.lock_product, data.product_id)
    if current is None:
        raise TransientError("product_unknown", f"product {data.product_id} not submitted yet")
    if await _reviewed_events(db, [event]):
        return []  # this decision is already in the product's history
    decision = rules.decide_review(current["status"], data.decision, data.reasons)
    if decision is None:
        raise PermanentError("product_not_flagged",
                             f"product {data.product_id} is {current['status']}")
    store_id: str = current["store_id"]
    review_id = await db.fetchval(
        Q.insert_review, data.product_id, store_id, "human", decision.status,
        list(decision.reasons), "[]", data.reviewer, None, event.time, event.source, event.id)
    await db.execute(Q.mark_product_reviewed, data.product_id, decision.status,
                     list(decision.reasons), event.time, review_id)
    return [_product_result(data.product_id, store_id, decision, data.reviewer)]


def _product_result(
    product_id: str, store_id: str, decision: rules.ProductDecision, reviewer: str | None
) -> Result:
    reasons = list(decision.reasons)
    status = decision.status
    if status == "flagged":
        matches = [TermMatch(term=m.term, field=m.field) for m in decision.matches]
        return Result("product.flagged", product_id, ProductFlagged(
            product_id=product_id, store_id=store_id, reasons=reasons,
            terms=list(decision.terms), matches=matches))
    if status == "rejected":
        return Result("product.rejected", product_id, ProductRejected(
            product_id=product_id, store_id=store_id, reasons=reasons, reviewer=reviewer))
    return Result("product.approved", product_id, ProductApproved(
        product_id=product_id, store_id=store_id, reasons=reasons, status=status,
        reviewer=reviewer))


def _matches(decision: rules.ProductDecision) -> list[dict[str, str]]:
    return [{"term": m.term, "field": m.field} for m in decision.matches]


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()
