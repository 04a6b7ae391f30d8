"""What `haodian gateway serve` and `haodian gateway token add|list|revoke` run."""

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import asyncpg
import structlog
import uvicorn

from workers import db
from workers.gateway import tokens
from workers.gateway.app import create_app
from workers.gateway.config import GatewaySettings
from workers.gateway.guard import Limits, guarded
from workers.settings import Settings, redact

T = TypeVar("T")
log = structlog.get_logger("haodian.gateway")


class _Server(uvicorn.Server):
    """SIGTERM/SIGINT drain the server and the command exits 0, as a worker does (uvicorn
    itself re-raises the signal once drained)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


async def serve(settings: Settings, config: GatewaySettings, host: str, port: int) -> int:
    """Serve until SIGINT/SIGTERM; in-flight requests get 10 s to finish. uvicorn's own
    log lines go through workers.logs (configured by the command)."""
    limits = Limits(config.header_timeout_s, config.body_timeout_s, config.max_header_bytes)
    server = _Server(uvicorn.Config(
        create_app(settings, config), host=host, port=port, http=guarded(limits),
        access_log=False, log_config=None, lifespan="on", timeout_graceful_shutdown=10,
        server_header=False, timeout_keep_alive=config.keep_alive_s,
        limit_concurrency=config.max_connections))
    log.info("gateway_starting", host=host, port=port, amqp_url=redact(settings.amqp_url),
             max_body_bytes=config.max_body_bytes, max_connections=config.max_connections,
             header_timeout_s=config.header_timeout_s, body_timeout_s=config.body_timeout_s)
    await server.serve()
    log.info("gateway_stopped")
    return 0 if server.started else 1


async def with_db(settings: Settings, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    conn = await db.connect(str(settings.database_url))
    try:
        return await work(conn)
    finally:
        await conn.close()


async def token_add(settings: Settings, source: str) -> tuple[tokens.TokenRow, str]:
    return await with_db(settings, lambda conn: tokens.add_token(conn, source))


async def token_list(settings: Settings) -> list[tokens.TokenRow]:
    return await with_db(settings, tokens.list_tokens)


async def token_revoke(settings: Settings, token_id: int) -> tokens.TokenRow | None:
    return await with_db(settings, lambda conn: tokens.revoke_token(conn, token_id))
