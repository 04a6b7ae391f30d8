"""Compliance handlers: load policy data and rows, apply the rules, write rows, return results.

Each handler takes a whole batch of its event type: the policy tables are read once per
batch (operators change them without a release, so they are never cached longer), then
the events run one after another in the batch's transaction.
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from handlers.base import SHANGHAI, Db, Incoming, PermanentError, Result, TransientError
from handlers.compliance import rules
from handlers.queries import load_queries
from schema.compliance import ProductReviewed, ProductSubmitted, StoreOpenRequested

Q = load_queries("compliance")


# --- policy data --------------------------------------------------------------------------


async def load_store_policies(db: Db) -> dict[str, rules.StoreTypePolicy]:
    return {
        r["store_type"]: rules.StoreTypePolicy(
            required_track=r["required_track"],
            deposit_required_fen=int(r["deposit_required_fen"]),
            brand_qualification_kind=r["brand_qualification_kind"],
            banned_words=tuple(r["banned_words"]),
        )
        for r in await db.fetch(Q.list_store_type_policies)
    }


async def load_taxonomy(db: Db) -> rules.Taxonomy:
    groups: dict[str, list[frozenset[str]]] = defaultdict(list)
    for r in await db.fetch(Q.list_category_requirements):
        groups[r["category"]].append(frozenset(r["kinds"]))
    categories = {
        r["category"]: rules.Category(
            code=r["category"],
            category_class=r["category_class"],
            requirements=tuple(groups[r["category"]]),
            excluded_store_types=frozenset(r["excluded_store_types"]),
        )
        for r in await db.fetch(Q.list_categories)
    }
    return rules.Taxonomy(
        categories=categories,
        kind_formats={r["kind"]: r["number_format"]
                      for r in await db.fetch(Q.list_qualification_kinds)},
        provinces=tuple(r["short_name"] for r in await db.fetch(Q.list_provinces)),
        terms=tuple(r["term"] for r in await db.fetch(Q.list_advertising_terms)),
    )


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
    policies = await load_store_policies(db)
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
    base = {"store_id": data.store_id, "account_id": data.account_id,
            "store_type": data.store_type}
    if decision.deposit_required_fen is None:
        await db.execute(Q.insert_store_rejection, data.store_id, data.account_id,
                         data.store_type, data.store_name, list(decision.reasons),
                         list(decision.banned_words), event.time, event.source, event.id)
        return [Result("store.rejected", data.store_id, {
            **base, "reasons": list(decision.reasons),
            "banned_words": list(decision.banned_words)})]

    inserted = await db.fetchval(Q.insert_store, data.store_id, data.account_id,
                                 data.store_type, data.store_name,
                                 decision.deposit_required_fen, event.time, event.source,
                                 event.id)
    if inserted is None:
        # Another transaction bound this account or store id after our checks: retry, and
        # the retry sees its row (account_has_store, or the same store again).
        raise TransientError("store_open_contended", f"store {data.store_id}")
    return [Result("store.opened", data.store_id, {
        **base, "store_name": data.store_name, "deposit_plan": "standard",
        "deposit_required_fen": decision.deposit_required_fen,
        "opened_at": event.time.astimezone(SHANGHAI).isoformat()})]


# --- product.submitted --------------------------------------------------------------------


async def handle_product_submitted(
    db: Db, events: Sequence[Incoming[ProductSubmitted]]
) -> list[list[Result]]:
    """Review each submitted product version: approved, rejected (all reasons) or flagged."""
    policies = await load_store_policies(db)
    taxonomy = await load_taxonomy(db)
    return [await _review_submission(db, event, policies, taxonomy) for event in events]


async def _review_submission(
    db: Db,
    event: Incoming[ProductSubmitted],
    policies: dict[str, rules.StoreTypePolicy],
    taxonomy: rules.Taxonomy,
) -> list[Result]:
    data = event.data
    current = await db.fetchrow(Q.lock_product, data.product_id)
    if current is not None and current["store_id"] != data.store_id:
        raise PermanentError("product_store_conflict", f"product {data.product_id} belongs "
                             f"to store {current['store_id']}")
    store = _store(await db.fetchrow(Q.get_store, data.store_id))
    certification = await _certification(db, store.account_id) if store else None
    facts = rules.ProductFacts(
        title=data.title, description=data.description, category=data.category,
        brand=data.brand,
        qualifications=tuple(rules.QualificationDoc(q.kind, q.number, q.valid_until)
                             for q in data.qualifications),
    )
    decision = rules.decide_product(facts, store, certification, policies, taxonomy,
                                    event.time)

    submission = data.model_dump(mode="json")
    review_id = await db.fetchval(
        Q.insert_review, data.product_id, data.store_id, "automatic", decision.status,
        list(decision.reasons), _json(_matches(decision)), None, _json(submission), event.time,
        event.source, event.id)
    await db.execute(
        Q.upsert_product, data.product_id, data.store_id, data.title, data.description,
        data.category, data.price_fen, data.brand, _json(submission["qualifications"]),
        decision.status, list(decision.reasons), list(decision.terms), event.time, review_id)
    return [_product_result(data.product_id, data.store_id, decision, None)]


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
    base: dict[str, Any] = {"product_id": product_id, "store_id": store_id,
                            "reasons": list(decision.reasons)}
    if decision.status == "flagged":
        return Result("product.flagged", product_id, {
            **base, "terms": list(decision.terms), "matches": _matches(decision)})
    if decision.status == "rejected":
        return Result("product.rejected", product_id, {**base, "reviewer": reviewer})
    return Result("product.approved", product_id,
                  {**base, "status": decision.status, "reviewer": reviewer})


def _matches(decision: rules.ProductDecision) -> list[dict[str, str]]:
    return [{"term": m.term, "field": m.field} for m in decision.matches]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
