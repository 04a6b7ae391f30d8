"""The Grafana dashboard's business panels (PostgreSQL data source) run against a real
database and agree with the monitor's business panels, figure for figure."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from handlers.base import SHANGHAI
from workers.ops.monitor import data
from workers.settings import Settings

DASHBOARD = Path(__file__).resolve().parents[3] / "deploy" / "grafana" / "haodian-dashboard.json"
WHOLE_RANGE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def sql_panels() -> dict[str, str]:
    dashboard = orjson.loads(DASHBOARD.read_bytes())
    return {p["title"]: p["targets"][0]["rawSql"] for p in dashboard["panels"]
            if p["datasource"]["type"] == "grafana-postgresql-datasource"}


def expand_macros(sql: str) -> str:
    """Grafana's time macros as query parameters ($1 from, $2 to)."""
    sql = re.sub(r"\$__timeFilter\(([a-z_]+)\)", r"\1 BETWEEN $1 AND $2", sql)
    return sql.replace("$__timeFrom()", "$1::timestamptz").replace("$__timeTo()",
                                                                    "$2::timestamptz")


async def run_panel(conn: asyncpg.Connection, sql: str) -> list[dict[str, Any]]:
    query = expand_macros(sql)
    assert "$__" not in query, f"a Grafana macro this test does not know: {query}"
    args = WHOLE_RANGE if "$1" in query else ()
    return [dict(r) for r in await conn.fetch(query, *args)]


def day_of(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def fen(yuan: Decimal) -> int:
    assert yuan == yuan.quantize(Decimal("0.01"))
    return int(yuan * 100)


async def assert_grafana_business_panels_agree(settings: Settings) -> None:
    panels = sql_panels()
    assert len(panels) == 7, sorted(panels)
    monitor = await data.business(str(settings.database_url))
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        got = {title: await run_panel(conn, sql) for title, sql in panels.items()}
    finally:
        await conn.close()

    apps = {r["application"]: r["applications"]
            for r in got["Certification applications by track and status"]}
    assert apps == {f"{r['track']} / {r['status']}": r["applications"]
                    for r in monitor["applications"]} and apps
    assert got["Reviews past their deadline"] == [
        {"overdue reviews": monitor["overdue_review_count"]}]
    assert {r["status"]: r["products"] for r in got["Products by review decision"]} == {
        r["status"]: r["products"] for r in monitor["products"]}

    orders = {day_of(r["time"]): r["orders"] for r in got["Orders settled per day (Asia/Shanghai)"]}
    money = {day_of(r["time"]): (fen(r["commission (yuan)"]), fen(r["payouts (yuan)"]))
             for r in got["Commission and payouts per day (yuan)"]}
    assert monitor["settlements_per_day"], "the demo settled orders"
    for row in monitor["settlements_per_day"]:
        day = date.fromisoformat(row["day"])
        assert orders[day] == row["orders"]
        assert money[day] == (row["commission_fen"], row["payout_fen"])
    assert sum(orders.values()) == monitor["settlement"]["orders"]

    buyers = {day_of(r["time"]): (r["active buyers"], fen(r["GMV (yuan)"]))
              for r in got["Daily active buyers and GMV (yuan)"]}
    assert monitor["buyers_gmv_per_day"]
    for row in monitor["buyers_gmv_per_day"]:
        assert buyers[date.fromisoformat(row["day"])] == (row["active_buyers"], row["gmv_fen"])

    refunds = got["Deposits refunded per day (yuan)"]
    assert sum(r["refunds"] for r in refunds) == monitor["deposit_refunds"]["refunded"] > 0
    assert sum(fen(r["refunded (yuan)"]) for r in refunds) == monitor["deposit_refunds"][
        "refund_fen"]
