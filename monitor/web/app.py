"""The Starlette app: /healthz for everyone, the rest behind a bearer token when one is set."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from monitor.errors import StorageError
from monitor.models import Vitals, utcnow
from monitor.web.gauges import VitalsGauges
from monitor.web.health import STALE_MARGIN, judge

if TYPE_CHECKING:
    from monitor.app import App

DATABASE_PATIENCE = 5.0  # seconds /healthz waits for the database before calling it away
OPEN = frozenset({"/healthz"})  # what answers without the token: a container's health check


class BearerToken:
    """Every request but those to OPEN paths carries ``Authorization: Bearer TOKEN``, or is
    answered 401 (compared in constant time)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN:
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                refused = JSONResponse(
                    {"error": "a bearer token is required: send Authorization: Bearer $MONITOR_SERVER_TOKEN"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


def build(
    vitals: Callable[[], Vitals],
    registry: CollectorRegistry,
    *,
    stale_after: timedelta,
    scheduler: Callable[[], bool] | None = None,
    token: str = "",
) -> ASGIApp:
    """The app over ``vitals`` (read from the database, in a thread) and ``registry`` (this
    process's counts; the database's gauges join it here). ``scheduler`` tells whether this
    process's scheduler runs (None: it runs none); ``token``, if set, guards all but OPEN."""
    registry.register(VitalsGauges(vitals, utcnow))

    async def healthz(_request: Request) -> Response:
        try:
            read: Vitals | None = await asyncio.wait_for(asyncio.to_thread(vitals), DATABASE_PATIENCE)
            error = None
        except TimeoutError:
            read, error = None, f"no answer within {DATABASE_PATIENCE:g} s"
        except StorageError as exc:
            read, error = None, str(exc)
        verdict = judge(
            read,
            utcnow(),
            stale_after=stale_after,
            database_error=error,
            scheduler=None if scheduler is None else scheduler(),
        )
        return JSONResponse(verdict.body, status_code=verdict.code, headers={"Cache-Control": "no-store"})

    async def metrics(request: Request) -> Response:
        """In the format the scraper asks for (OpenMetrics, or Prometheus's text format)."""
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        text = await asyncio.to_thread(encode, registry)
        return Response(text, headers={"Content-Type": content_type})

    app: ASGIApp = Starlette(routes=[Route("/healthz", healthz), Route("/metrics", metrics)])
    return BearerToken(app, token) if token else app


def for_app(
    app: App, registry: CollectorRegistry, token: str, scheduler: Callable[[], bool] | None = None
) -> ASGIApp:
    """The app of a config's monitor, over its store's vitals."""
    return build(
        lambda: app.store.vitals.read(utcnow()),
        registry,
        stale_after=app.config.polling.max_interval + STALE_MARGIN,
        scheduler=scheduler,
        token=token,
    )
