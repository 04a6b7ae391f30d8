"""The dashboard's HTTP side (Starlette): pages, JSON, DLQ actions, /metrics, token access.

Access: the token as `Authorization: Bearer <token>`, or once as /?token=<token>, which
sets an HttpOnly, SameSite=Strict cookie and redirects to / (the token leaves the URL).
Replay and purge are POSTs with a JSON body {"reason", "confirm": true} and the
X-Haodian-Action header, which no cross-site form can send; a purge names a reason or
says "all": true. Each writes its audit row through workers/tools/dlq.py.

The chart history is sampled in the background (history_loop, history.py), served as
/api/history?since=<Unix s>[&fields=a,b] and embedded in the page for its last hour."""

import asyncio
import contextlib
import hmac
import math
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from workers import topology
from workers.ops import metrics as exported
from workers.ops import scale, status
from workers.ops.monitor import assets, data, history, page
from workers.settings import OpsSettings, Settings
from workers.tools import dlq

log = structlog.get_logger()
COOKIE = "haodian_monitor"
STATUS_CACHE_S = 1.0
SCALE_EVERY_S = 30.0


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body, default=str), status_code,
                    media_type="application/json")


class Monitor:
    """The dashboard's state: settings, the token, a short status cache."""

    def __init__(self, s: Settings, ops: OpsSettings, token: str, domains: Sequence[str],
                 management_url: str | None) -> None:
        self.s, self.ops, self.token = s, ops, token
        self.domains = list(domains)
        self.places = [*self.domains, topology.UNROUTABLE_PLACE]
        self.management_url = management_url
        self._status: tuple[float, dict[str, Any]] | None = None
        self._lock = asyncio.Lock()
        self.history = history.History(self.domains, ops.monitor_history_every_s,
                                       ops.monitor_history_keep_s, ops.lag_window_s)

    def authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else (
            request.cookies.get(COOKIE, ""))
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    async def report(self) -> dict[str, Any]:
        async with self._lock:  # many viewers, one query per second
            if self._status is None or time.monotonic() - self._status[0] > STATUS_CACHE_S:
                fresh = await status.collect(self.s, self.ops, self.domains,
                                             self.management_url)
                self._status = (time.monotonic(), fresh)
            return self._status[1]

    # ---- routes ---------------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        query_token = request.query_params.get("token")
        if query_token is not None:
            if not hmac.compare_digest(query_token.encode(), self.token.encode()):
                return HTMLResponse(page.refused(), 401)
            response = RedirectResponse("/", 303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            return response
        if not self.authorized(request):
            return HTMLResponse(page.refused(), 401)
        groups = await self.dlq_groups()  # ingests first: the figures below then agree
        report, business = await asyncio.gather(self.report(),
                                                data.business(str(self.s.database_url)))
        now = time.time()
        charts = {**self.history.as_json(since=now - history.PAGE_WINDOW_S,
                                         fields=history.CHARTED), "now": now}
        return HTMLResponse(page.page(report, groups, business, assets.CSS, charts))

    async def api_status(self, request: Request) -> Response:
        return json_response(await self.report())

    async def api_history(self, request: Request) -> Response:
        """The samples after `since` (Unix seconds; default: all kept), every field or
        those named in `fields` (comma-separated)."""
        try:
            since = float(request.query_params.get("since", "-inf"))
        except ValueError:
            return json_response({"error": "since: Unix seconds"}, 400)
        if math.isnan(since):
            return json_response({"error": "since: Unix seconds"}, 400)
        named = request.query_params.get("fields")
        fields = named.split(",") if named else history.FIELDS
        return json_response({**self.history.as_json(since=since, fields=fields),
                              "now": time.time()})

    async def dlq_groups(self) -> dict[str, list[dict[str, Any]]]:
        return await data.dlq_groups(str(self.s.amqp_url), str(self.s.database_url),
                                     self.places)

    async def api_dlq(self, request: Request) -> Response:
        return json_response(await self.dlq_groups())

    async def api_business(self, request: Request) -> Response:
        return json_response(await data.business(str(self.s.database_url)))

    async def dlq_action(self, request: Request) -> Response:
        domain, action = request.path_params["domain"], request.path_params["action"]
        if domain not in self.places or action not in ("replay", "purge"):
            return json_response({"error": "unknown domain or action"}, 404)
        if request.headers.get("x-haodian-action") != "1":
            return json_response({"error": "X-Haodian-Action header missing"}, 403)
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return json_response({"error": "a JSON body is needed"}, 400)
        if not isinstance(body, dict) or body.get("confirm") is not True:
            return json_response({"error": "not confirmed"}, 400)
        reason = body.get("reason")
        try:
            flt = dlq.Filter(reason=reason if isinstance(reason, str) else None,
                             everything=body.get("all") is True)
            if action == "purge":
                dlq.check_purge(flt)
        except dlq.DlqError as exc:
            return json_response({"error": str(exc)}, 400)
        actor = f"monitor@{request.client.host if request.client else '?'}"
        run = dlq.replay if action == "replay" else dlq.purge
        try:
            count = await run(str(self.s.amqp_url), str(self.s.database_url), domain, flt,
                              actor)
        except dlq.DlqError as exc:
            return json_response({"error": str(exc)}, 409)
        log.info("dlq_action_done", action=action, domain=domain, filter=flt.as_json(),
                 count=count, actor=actor)
        return json_response({"action": action, "domain": domain, "count": count})

    async def statement(self, request: Request) -> Response:
        """A store-month's statement (workers/ops/monitor/statement.py); the page's own
        401 for a browser without the token."""
        if not self.authorized(request):
            return HTMLResponse(page.refused(), 401)
        from workers.ops.monitor.statement import statement_page

        return await statement_page(str(self.s.database_url), request)

    async def script(self, request: Request) -> Response:
        return Response(assets.JS, media_type="text/javascript")

    async def metrics(self, request: Request) -> Response:
        # Its own registry: the default one holds worker gauges this process never sets.
        return Response(generate_latest(exported.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    async def count_dead_letters(self) -> None:
        """Refresh /metrics' dead-letter counts (ingesting what waits in the broker first)."""
        groups = await self.dlq_groups()
        exported.DEAD_LETTERS.replace(self.places, groups, time.time())

    async def history_loop(self) -> None:
        """Sample the status report into the chart history every monitor_history_every_s
        (a sample slower than the period skips the periods it overran). Its own report,
        not the viewers' cache: a page must not be served a sample taken before its
        request's own DLQ ingest."""
        every, due = self.ops.monitor_history_every_s, time.monotonic()
        while True:
            try:
                self.history.record(await status.collect(self.s, self.ops, self.domains,
                                                         self.management_url))
            except Exception as exc:  # a gap in the charts, not a dead sampler
                log.warning("history_sample_failed", error=repr(exc)[:200])
            now = time.monotonic()
            due += every * max(1, math.ceil((now - due) / every))
            await asyncio.sleep(due - now)

    async def scale_loop(self) -> None:
        """Keep the gauges of /metrics current: dead letters, then the scale advice."""
        while True:
            try:
                await self.count_dead_letters()
            except Exception as exc:  # the dashboard stays up while a service is away
                log.warning("dead_letter_count_failed", error=repr(exc)[:200])
            try:
                await scale.measure(str(self.s.amqp_url), str(self.s.database_url), self.ops,
                                    self.domains, self.ops.target_lag_s, 5.0)
            except Exception as exc:  # the dashboard stays up while the broker is away
                log.warning("scale_advice_failed", error=repr(exc)[:200])
            await asyncio.sleep(SCALE_EVERY_S)


def create_app(monitor: Monitor) -> Starlette:
    def guarded(endpoint: Any) -> Any:
        async def check(request: Request) -> Response:
            if not monitor.authorized(request):
                return json_response({"error": "token required"}, 401)
            response: Response = await endpoint(request)
            return response
        return check

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(monitor.scale_loop()),
                 asyncio.create_task(monitor.history_loop())]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return Starlette(routes=[
        Route("/", monitor.index),
        Route("/static/monitor.js", monitor.script),
        Route("/statement", monitor.statement),
        Route("/api/status", guarded(monitor.api_status)),
        Route("/api/dlq", guarded(monitor.api_dlq)),
        Route("/api/business", guarded(monitor.api_business)),
        Route("/api/history", guarded(monitor.api_history)),
        Route("/api/dlq/{domain}/{action}", guarded(monitor.dlq_action), methods=["POST"]),
        Route("/metrics", guarded(monitor.metrics)),
    ], lifespan=lifespan)


async def serve(monitor: Monitor, host: str, port: int) -> int:
    import uvicorn

    config = uvicorn.Config(create_app(monitor), host=host, port=port, log_level="warning",
                            access_log=False, lifespan="on")
    log.info("monitor_serving", host=host, port=port)
    await uvicorn.Server(config).serve()
    return 0
