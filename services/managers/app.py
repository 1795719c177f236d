"""The managers' ASGI app (FastAPI): sign-in and pages (auth.py), the callbacks' JSON API (api.py), health.

`create_app()` builds its clients from the settings when the app starts (async Redis for the
accounts and the callback queue, an aiokafka producer for the CallbackOutcomes); tests may pass
their own `sender` and `clock`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from redis.exceptions import RedisError
from starlette.middleware.base import RequestResponseEndpoint

from config.settings import Settings
from config.settings import settings as default_settings
from processors.access import load_hierarchy
from processors.inbox import load_root_causes
from services.managers import actions, api, auth, events, preferences, privacy, views
from services.managers.context import Managers, Refusal, Sender, managers
from services.managers.pages import asset
from sinks.accounts import AccountStore
from sinks.callback_queue import CallbackQueue
from sinks.credentials import Credentials
from sinks.privacy import PrivacyStore

log = logging.getLogger(__name__)
SERVICE = "miroir-managers"
HEADERS = {
    "Cache-Control": "no-store",  # pages and answers name people and customers
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # The pages' own scripts only (no inline script, no CDN); their fetches and the live events to here only.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
}
STATIC = {  # what /static/ serves from web/, and as what
    "managers.css": "text/css; charset=utf-8",
    "common.js": "text/javascript; charset=utf-8",
    "inbox.js": "text/javascript; charset=utf-8",
    "case.js": "text/javascript; charset=utf-8",
}


def create_app(
    settings: Settings | None = None, *, sender: Sender | None = None, clock: Callable[[], float] = time.time
) -> FastAPI:
    settings = settings or default_settings
    from processors.config import pipeline_config

    quiet_days = pipeline_config().taxonomy.callbacks.quiet_days
    if sender is None:
        from services.intake.sender import KafkaSender

        sender = KafkaSender(settings.kafka, settings.managers.send_timeout)
    secret = settings.managers.session_secret
    state = Managers(
        settings=settings.managers,
        topics=settings.pipeline.topics,
        hierarchy=load_hierarchy(settings.managers.sites_file),
        accounts=AccountStore.from_url(settings.redis.dsn),
        credentials=Credentials.from_url(settings.redis.dsn),
        queue=CallbackQueue.from_url(settings.redis.dsn, quiet_days),
        sender=sender,
        clock=clock,
        root_causes=load_root_causes(settings.managers.root_causes_file),
        privacy=PrivacyStore.from_url(settings.redis.dsn),
        privacy_settings=settings.privacy,
    )
    if secret is not None:
        state.signin_key = secret.get_secret_value().encode()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.sender.start()
        try:
            if added := await state.queue.backfill_unclaimed():
                log.info("managers: %d open callbacks of an earlier version can now be claimed", added)
        except RedisError as error:  # tried again at the next start; claims by id work meanwhile
            log.warning("managers: could not bring earlier callbacks into the claim order: %s", error)
        try:
            yield
        finally:
            await state.close()

    app = FastAPI(
        title="Miroir managers",
        version="1",
        description="Managers, regional leads and admins act on the callbacks of the sites they may see.",
        openapi_url="/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.managers = state

    @app.middleware("http")
    async def headers(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        if not request.url.path.startswith("/docs"):  # the docs page loads its own scripts
            for name, value in HEADERS.items():
                response.headers.setdefault(name, value)
        return response

    @app.exception_handler(Refusal)
    async def refused(request: Request, refusal: Refusal) -> JSONResponse:
        return JSONResponse(refusal.body(), status_code=refusal.status, headers=refusal.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        field = ".".join(str(part) for part in first.get("loc", ())[1:]) or "request"
        refusal = Refusal(422, "invalid_request", f"{field}: {first.get('msg', error)}")
        return JSONResponse(refusal.body(), status_code=422)

    @app.exception_handler(RedisError)
    async def redis_down(request: Request, error: RedisError) -> JSONResponse:
        refusal = Refusal(503, "redis_unavailable", f"Redis cannot be reached: {error}", {"Retry-After": "5"})
        return JSONResponse(refusal.body(), status_code=503, headers=refusal.headers)

    routers = (auth.router, views.router, api.router, actions.router, events.router, preferences.router, privacy.router)
    for router in routers:
        app.include_router(router)

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in STATIC:
            raise Refusal(404, "not_found", f"no file {name!r}")
        # Not no-store: the same for everyone, and nothing personal in it; revalidated each time.
        return Response(asset(name), media_type=STATIC[name], headers={"Cache-Control": "no-cache"})

    @app.get("/healthz", summary="200 when Redis and Kafka (with the callback-outcomes topic) answer, else 503")
    async def healthz(request: Request) -> JSONResponse:
        found = managers(request)
        kafka = await found.sender.problem([found.topics.callback_outcomes])
        try:
            await found.accounts.ping()
            redis = None
        except (RedisError, OSError) as error:
            redis = f"Redis cannot be reached: {error}"
        body = {"service": SERVICE, "kafka": kafka or "ok", "redis": redis or "ok"}
        ok = kafka is None and redis is None
        return JSONResponse(body, status_code=200 if ok else 503, headers={} if ok else {"Retry-After": "5"})

    return app
