"""Helpers for the gateway tests: events, tokens, headers of each content mode."""

import asyncio
from typing import Any
from urllib.parse import quote

import asyncpg
import orjson
import structlog
from harness import event
from typer.testing import CliRunner, Result

from workers.cli.app import app
from workers.gateway.tokens import add_token as store_token
from workers.settings import Settings

ORDER_SOURCE = "order-service"
STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"


def order(order_id: str = "o-1", **overrides: Any) -> dict[str, Any]:
    data = {"order_id": order_id, "store_id": "s-1", "buyer_id": "u-9",
            "amount_fen": 129900, "confirmed_at": "2021-08-03T10:15:00+08:00"}
    return event("order.confirmed", {**data, **overrides}, source=ORDER_SOURCE)


async def add_token(settings: Settings, source: str) -> str:
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        _, token = await store_token(conn, source)
    finally:
        await conn.close()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def structured(token: str) -> dict[str, str]:
    return {**bearer(token), "Content-Type": STRUCTURED}


def binary(token: str, e: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """The headers and body of `e` in binary mode (header values percent-encoded)."""
    headers = {**bearer(token), "Content-Type": "application/json"}
    for name, value in e.items():
        if name not in ("data", "datacontenttype"):
            headers[f"ce-{name}"] = quote(str(value), safe="-_.:/@")
    return headers, orjson.dumps(e["data"])


async def cli(settings: Settings, *args: str) -> Result:
    """`haodian ARGS` through typer's test runner in a thread (the command runs its own
    event loop); structlog's configuration is put back afterwards."""
    env = {"HAODIAN_AMQP_URL": str(settings.amqp_url),
           "HAODIAN_DATABASE_URL": str(settings.database_url),
           "HAODIAN_LOG_LEVEL": "warning", "COLUMNS": "200"}
    saved = structlog.get_config()
    try:
        return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)
    finally:
        structlog.configure(**saved)
