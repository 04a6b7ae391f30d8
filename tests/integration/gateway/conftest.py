"""Gateway fixtures: the ASGI app in-process on the session's vhost and database.

    gateway_config  small limits so 413 is cheap to reach; no token cache (revocation shows
                    at once)
    token           a live token for ORDER_SOURCE
    client          an httpx client on the app (lifespan run), with no token set
"""

from collections.abc import AsyncIterator

import httpx
import pytest
from gateway_helpers import ORDER_SOURCE, add_token

from workers.gateway.app import create_app
from workers.gateway.config import GatewaySettings
from workers.settings import Settings


@pytest.fixture
def gateway_config() -> GatewaySettings:
    return GatewaySettings(max_body_bytes=16 * 1024, max_batch_events=50,
                           confirm_timeout_s=5, reconnect_backoff_s=0.2, token_cache_s=0)


@pytest.fixture
async def token(settings: Settings) -> str:
    return await add_token(settings, ORDER_SOURCE)


@pytest.fixture
async def client(settings: Settings, gateway_config: GatewaySettings
                 ) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, gateway_config)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway",
                                     timeout=30) as c:
            yield c
