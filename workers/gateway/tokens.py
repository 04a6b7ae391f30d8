"""Per-source bearer tokens: made here, shown once, kept in PostgreSQL as SHA-256 only."""

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from handlers.queries import load_queries

TOKEN_PREFIX = "hdg_"  # recognisable in a leaked-secret scan; not a secret itself


@dataclass(frozen=True, slots=True)
class TokenRow:
    token_id: int
    source: str
    created_at: datetime
    revoked_at: datetime | None


def new_token() -> str:
    """256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _row(record: asyncpg.Record) -> TokenRow:
    return TokenRow(record["token_id"], record["source"], record["created_at"],
                    record["revoked_at"])


async def add_token(conn: asyncpg.Connection, source: str) -> tuple[TokenRow, str]:
    """A new token for `source`: its row, and the token itself (never stored)."""
    token = new_token()
    record = await conn.fetchrow(load_queries("gateway").insert_token, source, token_hash(token))
    assert record is not None
    return TokenRow(record["token_id"], source, record["created_at"], None), token


async def list_tokens(conn: asyncpg.Connection) -> list[TokenRow]:
    return [_row(r) for r in await conn.fetch(load_queries("gateway").list_tokens)]


async def revoke_token(conn: asyncpg.Connection, token_id: int) -> TokenRow | None:
    record = await conn.fetchrow(load_queries("gateway").mark_token_revoked, token_id)
    return None if record is None else _row(record)


class TokenChecker:
    """Token -> its source, from the database, with live tokens cached for `cache_s`."""

    def __init__(self, pool: asyncpg.Pool, cache_s: float, timeout_s: float = 5.0) -> None:
        self.pool, self.cache_s, self.timeout_s = pool, cache_s, timeout_s
        self._cache: dict[bytes, tuple[str, float]] = {}

    async def source_of(self, token: str) -> str | None:
        """The token's source, or None when it is unknown or revoked."""
        digest = token_hash(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        source: str | None = await self.pool.fetchval(
            load_queries("gateway").get_token_source, digest, timeout=self.timeout_s)
        if source is None:
            self._cache.pop(digest, None)
        elif self.cache_s > 0:
            if len(self._cache) > 10_000:  # bounded: forget everything rather than grow
                self._cache.clear()
            self._cache[digest] = (source, now + self.cache_s)
        return source
