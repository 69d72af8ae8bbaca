"""The FastAPI application: one per process, built from a Runtime (and so from Settings)."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse

from crmassist.api import errors, middleware
from crmassist.api.routers import admin, chat, crm, health
from crmassist.runtime import Runtime
from crmassist.settings import Settings

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def create_app(runtime: Runtime | None = None, settings: Settings | None = None) -> FastAPI:
    """`runtime` for tests that share one; otherwise one is built from `settings`."""
    rt = runtime or Runtime(settings or Settings())
    metrics = middleware.Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _warm_up(rt)
        yield
        if runtime is None:
            rt.close()

    app = FastAPI(
        title="crmassist",
        version="0.1.0",
        description="A conversational CRM assistant: every answer only from what you may see.",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    app.state.metrics = metrics
    errors.install(app)
    middleware.install(app, rt.settings.max_request_bytes, rt.settings.max_import_bytes, metrics)
    for router in (health.router, chat.router, crm.router, admin.router):
        app.include_router(router)
    _mount_slack(app, rt)

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        """The web console: one static page, no build step; it talks to /v1 with the key."""
        return FileResponse(STATIC / "index.html", media_type="text/html")

    return app


def _mount_slack(app: FastAPI, rt: Runtime) -> None:
    """`/slack/events` when Slack is configured; Socket Mode too when an app token is set."""
    from crmassist.slack import build_slack_app

    bolt = build_slack_app(rt)
    if bolt is None:
        return
    from slack_bolt.adapter.fastapi import SlackRequestHandler

    handler = SlackRequestHandler(bolt)

    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    if rt.settings.slack_app_token is not None and rt.settings.slack_app_token.get_secret_value():
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        SocketModeHandler(bolt, rt.settings.slack_app_token.get_secret_value()).connect()
        log.info("Slack Socket Mode connected")


def _warm_up(rt: Runtime) -> None:
    """Build the heavy parts before the first request, not during it (and not twice)."""
    _ = rt.engine, rt.redactor, rt.encoder
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
