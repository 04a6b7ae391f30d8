"""The demo's story, second part: stores open, deposits are paid, products are reviewed."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from workers.demo.events import INBOX, Account, Phase, Planned, Store, Story, at, with_

STORES_AT = at("2021-08-05", "10:00")
DEPOSITS_AT = at("2021-08-05", "16:00")
PRODUCTS_AT = at("2021-08-06", "10:00")
PRODUCT_REVIEWED_AT = at("2021-08-06", "17:00")

STANDARD_DEPOSIT_FEN = {"personal": 100000, "individual_business": 100000,
                        "enterprise": 2000000, "flagship": 2000000, "specialty": 2000000}
LEGACY_DEPOSIT_FEN = 3000000  # docs/rules.md §3.4's worked example
REVIEW_REJECTS = "absolute terms, rejected by review"

ORDINARY = (("apparel", "纯棉圆领T恤", "舒适透气，日常百搭"),
            ("home", "陶瓷马克杯", "釉下彩，可进洗碗机"),
            ("digital", "蓝牙耳机", "续航8小时，轻巧便携"),
            ("books", "城市散步手册", "精装彩印，附手绘地图"),
            ("sports", "瑜伽垫", "加厚防滑，附收纳带"))


def _q(kind: str, number: str, valid_until: str | None) -> dict[str, Any]:
    return {"kind": kind, "number": number, "valid_until": valid_until}


def openings(story: Story, certified: set[str]) -> Phase:
    """Store openings for the cast and a crowd of certified accounts; the legacy
    merchant's deposit moves over from the old mall, and one merchant pays before
    learning the store will not open."""
    c = story.cast
    cast = [
        (c["legacy migration in window"], "enterprise", "福源茶庄", "store.opened", None),
        (c["legacy with a new USCC"], "individual_business", "王记杂货铺", "store.opened",
         None),
        (c["pilot-era USCC checksum"], "flagship", "山海旗舰店", "store.opened", None),
        (c["applies twice"], "specialty", "北辰运动专卖店", "store.opened", None),
        (c["legacy 12-digit lawyer"], "personal", "张律师的书房", "store.opened", None),
        (c["asks for a second store"], "personal", "阿杰的小店", "store.opened", None),
        (c["four pre-check failures"], "enterprise", "好店优选", "store.rejected",
         {"account_not_professional", "store_type_not_allowed"}),
        (c["rejected by the audit"], "personal", "周老师的教具", "store.rejected",
         {"account_not_professional"}),
        (c["doctor asks specialty"], "specialty", "杏林养生专卖店", "store.rejected",
         {"store_type_not_allowed"}),
        (c["banned words in store name"], "personal", "阿明品牌集合店", "store.rejected",
         {"store_name_banned_word"}),
    ]
    planned = [_opening(story, acc, kind, name, expect, reasons, acc.role)
               for acc, kind, name, expect, reasons in cast]
    planned[-1] = with_(planned[-1], fields={"banned_words": ["品牌", "集合"]})
    crowd = [a for a in story.accounts.values() if not a.role and a.account_id in certified]
    cycle = ("enterprise", "individual_business", "flagship", "specialty")
    for n, acc in enumerate(crowd[: max(6, story.size // 6)]):
        kind = cycle[n % 4] if acc.track == "enterprise" else "personal"
        name = {"personal": f"{acc.name.split('的')[0]}的小店",
                "individual_business": f"{acc.brand}小铺",
                "enterprise": f"{acc.brand}企业店", "flagship": f"{acc.brand}旗舰店",
                "specialty": f"{acc.brand}专卖店"}[kind]
        planned.append(_opening(story, acc, kind, name, "store.opened", None, ""))
    legacy = story.cast_stores["legacy migration in window"]
    unopened = story.cast_stores["four pre-check failures"]
    planned += [
        deposit(story, legacy, LEGACY_DEPOSIT_FEN, "legacy_mall", STORES_AT,
                "legacy_mall deposit from the old mall"),
        deposit(story, unopened, STANDARD_DEPOSIT_FEN["enterprise"], "standard", STORES_AT,
                "deposit for a store that never opens"),
    ]
    return Phase("stores: opening requests", planned)


def _opening(story: Story, acc: Account, kind: str, name: str, expect: str,
             reasons: set[str] | None, role: str) -> Planned:
    store = Store(f"{acc.account_id.replace('-acc-', '-st-')}", acc, kind, name)
    story.planned_stores[store.store_id] = store
    if role:
        story.cast_stores[role] = store
    fields = ({"deposit_required_fen": STANDARD_DEPOSIT_FEN[kind]}
              if expect == "store.opened" else {})
    return story.event("store.open_requested", "store-admin",
                      {"store_id": store.store_id, "account_id": acc.account_id,
                       "store_type": kind, "store_name": name}, STORES_AT, expect,
                      reasons=frozenset(reasons) if reasons else None, fields=fields,
                      label=role)


def deposit(story: Story, store: Store, amount_fen: int, plan: str, time: datetime,
            label: str = "") -> Planned:
    return story.event("deposit.paid", "payment-service",
                      {"payment_id": f"{store.store_id}-pay-{plan}", "store_id": store.store_id,
                       "amount_fen": amount_fen, "plan": plan}, time, INBOX, label=label)


def deposits(story: Story, opened: Sequence[dict[str, Any]]) -> Phase:
    """Opened stores pay the standard deposit they were told (the legacy one paid)."""
    planned = []
    legacy = story.cast_stores["legacy migration in window"].store_id
    for result in opened:
        data = result["data"]
        store = story.planned_stores.get(data["store_id"])
        if store is None:
            continue
        story.stores[store.store_id] = store
        if store.store_id != legacy:
            planned.append(deposit(story, store, data["deposit_required_fen"], "standard",
                                        DEPOSITS_AT))
    return Phase("deposits: standard plan payments", planned)


def products(story: Story) -> Phase:
    """Two ordinary products per open store, the compliance cases on named stores, and
    an account that asks for a second store."""
    s = story.cast_stores
    legacy, changed = s["legacy migration in window"], s["legacy with a new USCC"]
    flagship, personal = s["pilot-era USCC checksum"], s["asks for a second store"]
    rejected_store = s["banned words in store name"]
    auth = {"kind": "brand_authorization", "number": "BA-2021-0815", "valid_until": None}
    cases: list[tuple[Store, str, str, str, list[dict[str, Any]], str, frozenset[str] | None,
                      str, str | None]] = [
        (legacy, "food", "明前龙井 250g", "春茶，产地直发",
         [_q("food_production_license", "SC11233010600012", None)], "product.approved", None,
         "food with a production licence", None),
        (legacy, "food", "桂花乌龙 100g", "窨制三遍",
         [_q("food_business_license", "JY13301060012345", "2024-12-31")], "product.approved",
         None, "food with a business licence", None),
        (legacy, "food", "陈年普洱饼", "2015年压制",
         [_q("food_production_license", "SC11233010600099", "2021-07-31")],
         "product.rejected", frozenset({"qualification_expired"}), "expired licence", None),
        (legacy, "cosmetics_ordinary", "茶籽洁面乳", "温和清洁", [], "product.rejected",
         frozenset({"qualification_missing"}), "cosmetics without filing", None),
        (changed, "cosmetics_ordinary", "玫瑰保湿水", "补水保湿",
         [_q("cosmetics_filing", "粤G妆网备字2021001234", None)], "product.approved", None,
         "cosmetics with a filing number", None),
        (changed, "mother_baby", "婴儿纯棉口水巾", "A类面料", [], "product.approved", None,
         "mother_baby in an individual_business store", None),
        (flagship, "cosmetics_special", "山海防晒霜 SPF50", "清爽不油腻",
         [_q("cosmetics_registration", "国妆特字G20210123", "2026-05-31"), auth],
         "product.approved", None, "special cosmetics, registered, authorised", "山海"),
        (flagship, "cosmetics_special", "山海染发膏", "植物配方",
         [_q("cosmetics_registration", "国妆特字2021-88", None), auth], "product.rejected",
         frozenset({"qualification_invalid"}), "malformed registration number", "山海"),
        (flagship, "apparel", "联名卫衣", "限量款", [], "product.rejected",
         frozenset({"brand_authorization_missing"}), "brand without authorization", "远山"),
        (personal, "mother_baby", "婴儿推车", "可折叠", [], "product.rejected",
         frozenset({"category_not_allowed_for_store_type"}), "mother_baby in a personal store",
         None),
        (personal, "tobacco", "最好的手卷烟丝", "口感醇厚", [], "product.rejected",
         frozenset({"category_prohibited"}), "prohibited (terms ignored)", None),
        (personal, "spaceships", "火箭模型", "1:144", [], "product.rejected",
         frozenset({"category_unknown"}), "unknown category", None),
        (personal, "home", "全网最好用的保温杯 NO.1", "304不锈钢", [], "product.flagged", None,
         "absolute terms, cleared by review", None),
        (personal, "sports", "销量冠军跳绳", "TOP1 计数跳绳", [], "product.flagged", None,
         REVIEW_REJECTS, None),
        (rejected_store, "books", "茶经注释本", "线装", [], "product.rejected",
         frozenset({"store_not_open"}), "store never opened", None),
    ]
    planned = [_product(story, store, f"c{n:02d}", cat, title, desc, quals, expect, reasons,
                             label, brand)
               for n, (store, cat, title, desc, quals, expect, reasons, label, brand)
               in enumerate(cases)]
    for store in story.stores.values():
        for k, (cat, title, desc) in enumerate(story.rng.sample(ORDINARY, 2)):
            brand = store.account.brand if store.store_type in ("flagship", "specialty") \
                else None
            quals = [auth] if brand else []
            planned.append(_product(story, store, f"p{k}", cat, title, desc, quals,
                                         "product.approved", None, "", brand))
    second = story.cast["asks for a second store"]
    planned.append(story.event(
        "store.open_requested", "store-admin",
        {"store_id": f"{story.tag}-st-second-2", "account_id": second.account_id,
         "store_type": "personal", "store_name": "阿杰的二号店"}, PRODUCTS_AT,
        "store.rejected", reasons=frozenset({"account_has_store"}),
        label="a second store for one account"))
    return Phase("products: submissions", planned)


def _product(story: Story, store: Store, key: str, category: str, title: str, description: str,
             quals: list[dict[str, Any]], expect: str, reasons: frozenset[str] | None,
             label: str, brand: str | None) -> Planned:
    data: dict[str, Any] = {"product_id": f"{store.store_id}-{key}", "store_id": store.store_id,
                            "title": title, "description": description, "category": category,
                            "price_fen": story.rng.choice((1990, 3900, 5990, 12800, 29900)),
                            "qualifications": quals}
    if brand:
        data["brand"] = brand
    story.product_labels[data["product_id"]] = label
    return story.event("product.submitted", "store-admin", data, PRODUCTS_AT, expect,
                      reasons=reasons, label=label)


def product_reviews(story: Story, flagged: Sequence[dict[str, Any]]) -> Phase:
    """The review desk clears one flagged product and rejects the other."""
    planned = []
    for result in flagged:
        data = result["data"]
        reject = story.product_labels.get(data["product_id"]) == REVIEW_REJECTS
        body = {"product_id": data["product_id"],
                "decision": "rejected" if reject else "approved",
                "reasons": ["misleading_claim"] if reject else [], "reviewer": "desk-3"}
        planned.append(story.event(
            "product.reviewed", "review-desk", body, PRODUCT_REVIEWED_AT,
            "product.rejected" if reject else "product.approved",
            fields={} if reject else {"status": "listed"},
            reasons=frozenset({"misleading_claim"}) if reject else None,
            label="reviewer rejects" if reject else "reviewer clears"))
    return Phase("products: human review", planned)
