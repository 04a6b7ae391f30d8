"""The commands in a pipe, as a script or `| grep` runs them (stdout not a terminal,
COLUMNS=80 in the environment): every value whole, each row on one line; and `--json`
on every listing command, one document of whole values (money in fen as integers)."""

import asyncio
import base64
import sys
from pathlib import Path
from typing import Any

import orjson
from harness import Bus, event, run_worker_burst, settings_env
from tooling_helpers import professional_application

from workers import db
from workers.runtime.heartbeat import Heartbeat
from workers.settings import Settings
from workers.tools.ledger import checks, store_balance

DOMAIN = "certification"
LONG_ID = "order-2026-12-02/" + "shop-4711-" * 11  # 127 characters: an id may have 128
EXTRA = [f"unexpected_field_number_{n}_sent_by_an_old_upstream_release" for n in range(5)]
LONG_HOST = "haodian-worker-7d9f8b6c5d-x2x9z." + "eu-central-1.compute.internal." * 3
LONG_SOURCE = "https://upstream.example.com/" + "tenants/shop-4711/" * 8


async def haodian(settings: Settings, *args: str) -> tuple[int, str, str]:
    """The console script with stdout and stderr piped, in an 80-column environment."""
    env = settings_env(settings) | {"COLUMNS": "80", "LINES": "24",
                                    "HAODIAN_LOG_LEVEL": "warning"}
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "haodian"), *args, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, errors = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), errors.decode()


async def dead_letter_with_long_values(bus: Bus, settings: Settings) -> dict[str, Any]:
    """An event with the longest id an event may have and five unknown fields: its
    detail names all five (about 400 characters)."""
    bad = event("certification.submitted",
                {**professional_application("app-p", "acc-p"), **dict.fromkeys(EXTRA, 1)},
                id=LONG_ID)
    await bus.publish(bad)
    await run_worker_burst(settings, [DOMAIN])
    return bad


async def test_dlq_list_and_show_print_whole_values_in_a_pipe(bus: Bus,
                                                             settings: Settings) -> None:
    bad = await dead_letter_with_long_values(bus, settings)
    code, out, errors = await haodian(settings, "dlq", "list", "-d", DOMAIN)
    assert code == 0, errors
    (row,) = [line for line in out.splitlines() if LONG_ID in line]
    assert all(f"data.{name}: Extra inputs are not permitted" in row for name in EXTRA)
    assert "…" not in out and len(row) > 500

    code, listed, errors = await haodian(settings, "dlq", "list", "-d", DOMAIN, "--json")
    assert code == 0, errors
    (summary,) = orjson.loads(listed)
    assert summary["event_id"] == LONG_ID and summary["reason"] == "schema_invalid"
    assert summary["detail"] in row and all(name in summary["detail"] for name in EXTRA)
    assert isinstance(summary["position"], int) and isinstance(summary["attempt"], int)

    position = str(summary["position"])
    code, shown, errors = await haodian(settings, "dlq", "show", "-d", DOMAIN, position)
    assert code == 0, errors
    assert f"  x-haodian-event-id: {LONG_ID}\n" in shown
    assert f"  x-haodian-detail: {summary['detail']}\n" in shown
    assert shown.endswith(orjson.dumps(bad).decode() + "\n")

    code, as_json, errors = await haodian(settings, "dlq", "show", "-d", DOMAIN, position,
                                          "--json")
    assert code == 0, errors
    letter = orjson.loads(as_json)
    assert {k: letter[k] for k in summary} == summary
    assert letter["headers"]["x-haodian-event-id"] == LONG_ID
    assert letter["headers"]["x-haodian-detail"] == summary["detail"]
    assert letter["properties"]["content_type"] == "application/cloudevents+json"
    assert orjson.loads(letter["body"]) == bad
    assert base64.b64decode(letter["body_base64"]) == orjson.dumps(bad)


async def test_status_prints_whole_hosts_in_a_pipe_and_watch_refuses_json(
        settings: Settings) -> None:
    pool = await db.create_pool(str(settings.database_url), min_size=1, max_size=1)
    beat = Heartbeat(["certification", "compliance", "settlement", "deposit"])
    beat.host = LONG_HOST
    try:
        await beat.beat(pool, 1_234_567)
        code, out, errors = await haodian(settings, "status", "--domain", "all")
        assert code == 0, errors
        (row,) = [line for line in out.splitlines() if LONG_HOST in line]
        assert "certification,compliance,settlement,deposit" in row and "1,234,567" in row
        assert "…" not in out
    finally:
        await beat.stopped(pool, 0)
        await pool.close()
    code, _, errors = await haodian(settings, "status", "--watch", "--json")
    assert code == 2 and "choose one" in errors


async def test_gateway_tokens_are_listed_whole_and_as_json(settings: Settings) -> None:
    code, token, errors = await haodian(settings, "gateway", "token", "add", "--source",
                                        LONG_SOURCE)
    assert code == 0, errors
    code, out, errors = await haodian(settings, "gateway", "token", "list")
    assert code == 0, errors
    assert LONG_SOURCE in out and "…" not in out
    code, out, errors = await haodian(settings, "gateway", "token", "list", "--json")
    assert code == 0, errors
    (row,) = orjson.loads(out)
    assert row["source"] == LONG_SOURCE and isinstance(row["id"], int)
    assert row["revoked_at"] is None and row["created_at"].startswith("20")
    assert token.strip() not in out, "never the token"


async def test_ledger_verify_and_balance_as_json_with_fen_as_integers(
        bus: Bus, settings: Settings) -> None:
    def order(order_id: str, amount_fen: int) -> dict[str, Any]:
        return event("order.confirmed", {
            "order_id": order_id, "store_id": "s-1", "buyer_id": "u-1",
            "amount_fen": amount_fen, "confirmed_at": "2021-08-03T10:15:00+08:00"})

    await bus.publish(order("o-1", 800_000), order("o-2", 400_000), order("o-3", 30))
    await run_worker_burst(settings, ["settlement"])
    await bus.publish(event("settlement.run_requested",
                            {"run_id": "r-1", "as_of": "2021-08-11T00:00:00+08:00"}))
    await run_worker_burst(settings, ["settlement"])

    code, out, errors = await haodian(settings, "ledger", "verify", "--json")
    assert code == 0, errors
    assert orjson.loads(out) == {"checks": list(checks()), "failed": []}

    code, out, errors = await haodian(settings, "ledger", "balance", "--store", "s-1",
                                      "--json")
    assert code == 0, errors
    assert "\n" not in out.rstrip("\n"), "one compact document"
    balance = orjson.loads(out)
    conn = await db.connect(str(settings.database_url))
    try:
        expected = orjson.loads(orjson.dumps(await store_balance(conn, "s-1")))
    finally:
        await conn.close()
    assert balance == expected
    fen = {k: v for k, v in balance.items() if k.endswith("_fen")}
    fen |= {f"months.{k}": v for m in balance["months"] for k, v in m.items()
            if k.endswith("_fen")}
    assert fen and all(type(v) is int for v in fen.values()), fen
    assert [(m["net_fen"], m["commission_fen"]) for m in balance["months"]] == [
        (800_000 + 400_000 + 30, 10_002)]  # the worked example of docs/rules.md
