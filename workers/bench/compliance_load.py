"""Compliance benchmark load: open stores set up in SQL, then product submissions.

The timed drain measures product review only, so the certified accounts and their open
stores are written straight into the bench database before it starts (as the
certification and compliance domains would leave them), not published and drained.
"""

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from workers import db
from workers.bench.load import cloudevent
from workers.settings import Settings

STORES = 200
RESULT_KEYS = ["product.approved", "product.rejected", "product.flagged"]

# (category, qualifications): ordinary categories, and restricted ones with a good document.
_CATALOGUE: tuple[tuple[str, list[dict[str, Any]]], ...] = (
    ("apparel", []), ("home", []), ("digital", []), ("books", []), ("sports", []),
    ("mother_baby", []),
    ("cosmetics_special", [{"kind": "cosmetics_registration", "number": "国妆特字G20210001",
                            "valid_until": "2030-12-31"}]),
    ("cosmetics_ordinary", [{"kind": "cosmetics_filing", "number": "粤G妆网备字2021000001",
                             "valid_until": None}]),
    ("food", [{"kind": "food_production_license", "number": "SC10644030500123",
               "valid_until": None}]),
    ("food", [{"kind": "food_business_license", "number": "JY14403050012345",
               "valid_until": "2030-12-31"}]),
)
_DESCRIPTION = ("精选优质原料，做工细致，经过多道质检工序。支持七天无理由退货，"
                "下单后四十八小时内发货，全国大部分地区包邮。规格与颜色以实物为准，"
                "如有疑问请联系客服，我们将竭诚为您服务。")
_FLAGGED_TAILS = ("全网销量冠军", "品质最佳", "行业第一", "TOP1 爆款", "独家配方")


def product_submissions(n: int, run: str, now: datetime, seed: int = 11,
                        flagged_share: float = 0.1) -> Iterator[dict[str, Any]]:
    """`n` submissions over the bench stores; `flagged_share` of them use absolute terms."""
    rng = random.Random(seed)
    for i in range(n):
        category, qualifications = rng.choice(_CATALOGUE)
        title = f"{category} 新款好物 {i % 997}"
        description = _DESCRIPTION
        if rng.random() < flagged_share:
            description = f"{_DESCRIPTION}{rng.choice(_FLAGGED_TAILS)}"
        yield cloudevent("product.submitted", "store-admin", {
            "product_id": f"{run}-p-{i}", "store_id": store_id(rng.randrange(STORES)),
            "title": title, "description": description, "category": category,
            "price_fen": int(rng.choice((990, 4990, 9900, 19900, 59900))),
            "qualifications": qualifications}, now)


def store_id(k: int) -> str:
    return f"bench-s-{k}"


async def open_stores(settings: Settings, now: datetime, stores: int = STORES) -> None:
    """Certified enterprise accounts (valid for a year from `now`) with one open store each."""
    certified_at = now - timedelta(days=1)
    valid_until = certified_at + timedelta(days=365)
    conn = await db.connect(str(settings.database_url))
    try:
        async with conn.transaction():
            await conn.execute(
                """INSERT INTO certification_applications (application_id, account_id,
                       account_name, track, status, fee_fen, submitted_at, decided_at,
                       valid_until, event_source, event_id)
                   SELECT 'bench-app-' || k, 'bench-acc-' || k, '好店' || k, 'enterprise',
                          'approved', 60000, $2, $2, $3, 'bench', 'bench-app-' || k
                   FROM generate_series(0, $1 - 1) AS k""", stores, certified_at, valid_until)
            await conn.execute(
                """INSERT INTO professional_accounts (account_id, account_name, track,
                       application_id, certified_at, valid_until)
                   SELECT 'bench-acc-' || k, '好店' || k, 'enterprise', 'bench-app-' || k, $2, $3
                   FROM generate_series(0, $1 - 1) AS k""", stores, certified_at, valid_until)
            await conn.execute(
                """INSERT INTO stores (store_id, account_id, store_type, store_name,
                       deposit_required_fen, opened_at, event_source, event_id)
                   SELECT 'bench-s-' || k, 'bench-acc-' || k, 'enterprise', '好店' || k,
                          2000000, $2, 'bench', 'bench-s-' || k
                   FROM generate_series(0, $1 - 1) AS k""", stores, certified_at)
    finally:
        await conn.close()
