"""The FastAPI application: one per process, built from a Runtime (and so from Settings)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from crmassist.api import errors, middleware
from crmassist.api.inputs import single_valued_query
from crmassist.api.routers import admin, audit, chat, crm, dashboard, health, privacy
from crmassist.api.routers import reminders as reminder_routes
from crmassist.runtime import Runtime
from crmassist.settings import Settings

if TYPE_CHECKING:
    from fastapi.routing import APIRoute
    from slack_bolt import App as BoltApp
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from crmassist.scheduler.service import ProactiveScheduler

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def create_app(runtime: Runtime | None = None, settings: Settings | None = None) -> FastAPI:
    """`runtime` for tests that share one; otherwise one is built from `settings`."""
    rt = runtime or Runtime(settings or Settings())
    metrics = middleware.Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _warm_up(rt)
        socket = await asyncio.to_thread(_connect_socket_mode, bolt, rt.settings)
        scheduler = _start_scheduler(rt, bolt)
        yield
        if scheduler is not None:
            scheduler.stop()
        if socket is not None:
            socket.close()
        if runtime is None:
            rt.close()

    app = FastAPI(
        title="crmassist",
        version="0.1.0",
        description="A conversational CRM assistant: every answer only from what you may see.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        dependencies=[Depends(single_valued_query)],
    )
    app.state.runtime = rt
    app.state.metrics = metrics
    errors.install(app)
    middleware.install(app, rt.settings.max_request_bytes, rt.settings.max_import_bytes, metrics)
    app.include_router(health.router)
    routers = (chat.router, crm.router, dashboard.router, admin.router, audit.router)
    for router in (*routers, privacy.router):
        app.include_router(router, responses=errors.RESPONSES)
    app.include_router(reminder_routes.router, responses=errors.RESPONSES)
    bolt = _mount_slack(app, rt)

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        """The web console: one static page, no build step; it talks to /v1 with the key."""
        return FileResponse(STATIC / "index.html", media_type="text/html")

    # The console's charting and Markdown libraries, bundled (vendor/README.md): no CDN.
    app.mount("/vendor", StaticFiles(directory=STATIC / "vendor"), name="vendor")

    return app


def _operation_id(route: APIRoute) -> str:
    """The route's function name ("search", "log_interaction"): what generated clients call."""
    return route.name


def _mount_slack(app: FastAPI, rt: Runtime) -> BoltApp | None:
    """`/slack/events` when Slack is configured (HTTP mode, signatures checked by Bolt)."""
    from crmassist.slack import build_slack_app

    bolt = build_slack_app(rt)
    if bolt is None:
        return None
    from slack_bolt.adapter.fastapi import SlackRequestHandler

    handler = SlackRequestHandler(bolt)

    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    return bolt


def _connect_socket_mode(bolt: BoltApp | None, settings: Settings) -> SocketModeHandler | None:
    """Socket Mode as well when an app token is set: Slack events arrive over a WebSocket
    the service opens, so no public URL is needed. Closed when the app shuts down."""
    token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    if bolt is None or not token:
        return None
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackClientError

    socket = SocketModeHandler(bolt, token)
    try:
        socket.connect()
    except (SlackClientError, OSError) as exc:
        # Slack being unreachable or the token wrong must not take the API and console down.
        log.error("Slack Socket Mode could not connect (%s); HTTP mode and the API still run", exc)
        socket.close()  # its client's worker threads start before the connection does
        return None
    log.info("Slack Socket Mode connected")
    return socket


def _start_scheduler(rt: Runtime, bolt: BoltApp | None) -> ProactiveScheduler | None:
    """Digests and reminders when `CRMASSIST_SCHEDULER` is on; every worker runs it, the
    lease decides which one sends. They go out through Slack, so Slack must be set up."""
    if not rt.settings.scheduler:
        return None
    if bolt is None:
        log.warning("CRMASSIST_SCHEDULER is on but Slack is not configured: nothing is sent")
        return None
    from crmassist.slack.bot import SlackSender

    scheduler = rt.scheduler(SlackSender(bolt.client))
    scheduler.start()
    return scheduler


def _warm_up(rt: Runtime) -> None:
    """Build the heavy parts before the first request, not during it (and not twice)."""
    _ = rt.engine, rt.redactor, rt.encoder
    rt.index_worker()  # the one index writer; it first indexes notes an earlier run left owed
    if rt.store.exists():
        log.info("index ready")
    else:
        log.warning("no search index yet: run `crmassist index`; search and chat will answer 503")


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_json:
        handler.setFormatter(middleware.JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
