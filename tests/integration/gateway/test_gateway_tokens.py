"""`haodian gateway token add|list|revoke`: printed once, stored as a hash, revocable."""

import hashlib

import asyncpg
import httpx
import orjson
from gateway_helpers import ORDER_SOURCE, cli, order, structured

from workers.settings import Settings


async def token_rows(settings: Settings) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        return await conn.fetch("SELECT t.*, t::text AS whole FROM gateway_tokens t "
                                "ORDER BY token_id")
    finally:
        await conn.close()


async def test_token_lifecycle_through_the_cli(client: httpx.AsyncClient, settings: Settings
                                               ) -> None:
    added = await cli(settings, "gateway", "token", "add", "--source", ORDER_SOURCE)
    assert added.exit_code == 0, added.output
    token = added.stdout.strip().splitlines()[-1]
    assert token.startswith("hdg_") and len(token) > 40
    assert "shown once" in added.stderr

    [row] = await token_rows(settings)
    assert row["source"] == ORDER_SOURCE and row["revoked_at"] is None
    assert bytes(row["token_sha256"]) == hashlib.sha256(token.encode()).digest()
    assert token not in row["whole"] and token[4:] not in row["whole"]

    e = order("o-token")
    response = await client.post("/events", content=orjson.dumps(e), headers=structured(token))
    assert response.status_code == 202, response.text

    listed = await cli(settings, "gateway", "token", "list")
    assert listed.exit_code == 0, listed.output
    assert ORDER_SOURCE in listed.stdout and str(row["token_id"]) in listed.stdout
    assert token not in listed.stdout and row["token_sha256"].hex() not in listed.stdout

    revoked = await cli(settings, "gateway", "token", "revoke", str(row["token_id"]))
    assert revoked.exit_code == 0, revoked.output
    [row] = await token_rows(settings)
    assert row["revoked_at"] is not None
    response = await client.post("/events", content=orjson.dumps(order("o-revoked")),
                                 headers=structured(token))
    assert (response.status_code, response.json()["reason"]) == (401, "token_unknown")

    unknown = await cli(settings, "gateway", "token", "revoke", "999999")
    assert unknown.exit_code == 1


async def test_each_add_makes_a_new_token(settings: Settings) -> None:
    tokens = []
    for _ in range(2):
        added = await cli(settings, "gateway", "token", "add", "--source", "payments")
        assert added.exit_code == 0, added.output
        tokens.append(added.stdout.strip().splitlines()[-1])
    assert tokens[0] != tokens[1]
    assert [r["source"] for r in await token_rows(settings)] == ["payments", "payments"]
