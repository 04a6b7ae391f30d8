"""Helpers for the tooling tests: certification payloads, broker taps, the CLI in a thread."""

import asyncio
from typing import Any

import asyncpg
import orjson
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from typer.testing import CliRunner, Result

from workers.cli.app import app
from workers.settings import Settings

HOLDER_ID_NUMBER = "11010519491231002X"  # a valid GB 11643-1999 resident id


def professional_application(application_id: str, account_id: str) -> dict[str, Any]:
    """A lawyer's application that passes the pre-checks and waits for the audit."""
    return {"application_id": application_id, "account_id": account_id,
            "account_name": "Counsel Li", "track": "professional",
            "professional": {"profession": "lawyer", "credential_number": "1" * 17,
                             "credential_valid_until": None, "holder_name": "李四",
                             "holder_id_number": HOLDER_ID_NUMBER}}


def approval(application_id: str) -> dict[str, Any]:
    return {"application_id": application_id, "decision": "approved", "reasons": [],
            "reviewer": "auditor-7"}


class Tap:
    """A private queue bound to an exchange: sees a copy of what is published there."""

    def __init__(self) -> None:
        self.messages: list[AbstractIncomingMessage] = []
        self._arrived = asyncio.Event()

    @classmethod
    async def open(cls, channel: AbstractChannel, exchange: str, routing_key: str) -> "Tap":
        tap = cls()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(await channel.get_exchange(exchange), routing_key=routing_key)
        await queue.consume(tap._on_message, no_ack=True)
        return tap

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self.messages.append(message)
        self._arrived.set()

    async def wait(self, count: int, timeout_s: float = 20) -> list[AbstractIncomingMessage]:
        """Wait until at least `count` copies arrived; returns all of them."""
        async with asyncio.timeout(timeout_s):
            while len(self.messages) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.messages


async def cli(settings: Settings, *args: str, stdin: bytes | None = None) -> Result:
    """`haodian ARGS` through typer's test runner, in a thread: the commands run their own
    event loop, which cannot nest in the test's. structlog's global configuration is
    put back afterwards."""
    env = {"HAODIAN_AMQP_URL": str(settings.amqp_url),
           "HAODIAN_DATABASE_URL": str(settings.database_url),
           "HAODIAN_LOG_LEVEL": "warning", "COLUMNS": "200"}
    saved = structlog.get_config()
    try:
        return await asyncio.to_thread(CliRunner().invoke, app, list(args), input=stdin,
                                       env=env)
    finally:
        # The command configured structlog to print to the runner's stderr, closed now;
        # in-process workers of later tests must not log there.
        structlog.configure(**saved)


async def audit_rows(database_url: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT action, domain, filter, messages, actor "
                                "FROM dlq_audit ORDER BY id")
    finally:
        await conn.close()
    return [{**r, "filter": orjson.loads(r["filter"])} for r in rows]


async def broker_dead_letter(channel: AbstractChannel, queue_name: str) -> None:
    """Take one message from a domain queue and reject it without requeue: the broker
    dead-letters it itself, as it does past the delivery limit."""
    queue = await channel.get_queue(queue_name)
    message = await queue.get(no_ack=False)
    assert message is not None
    await message.reject(requeue=False)

