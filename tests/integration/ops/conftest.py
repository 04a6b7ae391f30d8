"""Fixtures of the operations tests: the RabbitMQ management API."""

import asyncio

import pytest
from ops_helpers import http_get, wait_until

MANAGEMENT = "http://guest:guest@127.0.0.1:15672"


def management_up() -> bool:
    try:
        return http_get("http://127.0.0.1:15672/api/overview",
                        {"Authorization": "Basic Z3Vlc3Q6Z3Vlc3Q="}, 2)[0] == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
async def management() -> str:
    """The management plugin, enabled on the running node if it is off."""
    if not await asyncio.to_thread(management_up):
        proc = await asyncio.create_subprocess_exec(
            "rabbitmq-plugins", "enable", "rabbitmq_management",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        assert await asyncio.wait_for(proc.wait(), 120) == 0

        async def up() -> bool:
            return await asyncio.to_thread(management_up)

        await wait_until(up, 60, "the management API", every_s=0.5)
    return MANAGEMENT
