"""The intake's ASGI app (FastAPI): routes, authentication, limits, health, metrics, OpenAPI.

`create_app()` builds the real clients from the settings when the app starts
(aiokafka, async Redis); tests may pass their own `sender` and `tokens`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.exceptions import RedisError

from config.settings import Settings
from config.settings import settings as default_settings
from processors.taxonomy import Taxonomy
from services.intake import PATHS
from services.intake.hooks import mapping_for
from services.intake.ingest import Answer, Erasures, Intake, Refusal, Sender, Tokens, parse_json
from services.intake.limits import RateLimiter, TooLarge, read_limited, retry_after
from services.intake.metrics import CONTENT_TYPE, TOKEN_NAME, IntakeMetrics, MetricsMiddleware
from services.intake.records import request_model
from services.intake.staff import install as install_staff_questionnaire
from sinks.intake_tokens import TokenInfo

SERVICE = "miroir-intake"
KINDS = {"SurveyResponse": "survey", "StaffFeedback": "staff"}
bearer = HTTPBearer(auto_error=False, description="A token from `miroir intake token create --name NAME`")
REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No token, or a token never issued"},
    403: {"description": "A revoked token"},
    413: {"description": "Body over the size limit, or more records than a batch holds"},
    422: {"description": "Not JSON, or a record refused: `error.field` names the field, `error.reason` why"},
    429: {"description": "Over the token's rate; wait Retry-After seconds"},
    503: {"description": "Kafka (or Redis) cannot be reached: nothing accepted; resend after Retry-After"},
}


def _intake(request: Request) -> Intake:
    intake: Intake = request.app.state.intake
    return intake


async def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> TokenInfo:
    intake = _intake(request)
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Refusal(401, "unauthorized", "send Authorization: Bearer <token>", headers=challenge)
    try:
        info = await intake.tokens.lookup(credentials.credentials)
    except (RedisError, OSError) as error:
        raise Refusal(
            503, "redis_unavailable", f"tokens cannot be checked: {error}", headers=intake.retry_after()
        ) from None
    if info is None:
        raise Refusal(401, "unknown_token", "this token was never issued", headers=challenge)
    setattr(request.state, TOKEN_NAME, info.name)
    if info.revoked:
        raise Refusal(403, "revoked_token", f"the token {info.name!r} was revoked")
    wait = request.app.state.limiter.take(info.name, time.monotonic())
    if wait > 0:
        raise Refusal(
            429,
            "rate_limited",
            f"over {intake.settings.rate_per_token:g} requests/s for {info.name!r}",
            headers={"Retry-After": retry_after(wait)},
        )
    return info


Authenticated = Annotated[TokenInfo, Depends(authenticate)]


async def _payload(request: Request) -> Any:
    limit = _intake(request).settings.max_body_bytes
    try:
        body = await read_limited(request.stream(), request.headers.get("content-length"), limit)
    except TooLarge as error:
        raise Refusal(413, "too_large", f"{error}; send smaller batches") from None
    return parse_json(body)


def _respond(answer: Answer) -> JSONResponse:
    return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)


def _poster(kind: str) -> Callable[..., Awaitable[JSONResponse]]:
    """The endpoint of one kind (its kind a closure's, not a parameter a client could set)."""

    async def post(request: Request, token: Authenticated) -> JSONResponse:
        return _respond(await _intake(request).accept(kind, await _payload(request)))

    return post


def _body_doc(model: str, batch_max: int) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{model}"}
    schema = {"oneOf": [ref, {"type": "array", "items": ref, "minItems": 1, "maxItems": batch_max}]}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for kind in KINDS.values():
        model = request_model(kind).model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(model.pop("$defs", {}))
        components[model["title"]] = model
    app.openapi_schema = schema
    return schema


def create_app(
    settings: Settings | None = None,
    *,
    sender: Sender | None = None,
    tokens: Tokens | None = None,
    taxonomy: Taxonomy | None = None,
    erasures: Erasures | None = None,
) -> FastAPI:
    settings = settings or default_settings
    if taxonomy is None:
        from processors.config import pipeline_config

        taxonomy = pipeline_config().taxonomy
    metrics = IntakeMetrics()
    owned: list[Any] = []  # the clients built here, closed when the app stops
    if sender is None:
        from services.intake.sender import KafkaSender

        sender = KafkaSender(settings.kafka, settings.intake.send_timeout)
        owned.append(sender)
    if tokens is None:
        from sinks.intake_tokens import TokenStore

        tokens = TokenStore.from_url(settings.redis.dsn)
        owned.append(tokens)
    if erasures is None:
        from sinks.privacy import PrivacyStore

        erasures = PrivacyStore.from_url(settings.redis.dsn)
        owned.append(erasures)
    intake = Intake(
        settings.intake,
        settings.pipeline.topics,
        taxonomy,
        sender,
        tokens,
        metrics,
        time.time,
        erasures,
        settings.privacy,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await intake.sender.start()
        try:
            yield
        finally:
            for client in owned:
                await client.close()

    app = FastAPI(
        title="Miroir intake",
        version="1",
        description="Send customers' survey answers and staff stories to Miroir. A record answered 202 is in Kafka.",
        openapi_url="/v1/openapi.json",
        docs_url="/docs",
        redoc_url="/redoc",
        lifespan=lifespan,
    )
    app.state.intake = intake
    app.state.limiter = RateLimiter(settings.intake.rate_per_token, settings.intake.rate_burst)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    @app.exception_handler(Refusal)
    async def refused(request: Request, refusal: Refusal) -> JSONResponse:
        return JSONResponse(refusal.body(), status_code=refusal.status, headers=refusal.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        field = ".".join(str(part) for part in first.get("loc", ())[1:]) or None
        refusal = Refusal(422, "invalid_request", str(first.get("msg", error)), field=field)
        return JSONResponse(refusal.body(), status_code=422)

    for model, kind in KINDS.items():
        app.post(
            PATHS[kind],
            status_code=202,
            summary=f"Send one {model} (a JSON object) or a batch (a JSON array)",
            responses={207: {"description": "A batch with some records accepted, some not"}, **REFUSALS},
            response_description="Accepted: every record is in Kafka",
            openapi_extra=_body_doc(model, settings.intake.batch_max),
            operation_id=f"post_{kind}",
        )(_poster(kind))

    @app.post(
        "/v1/hooks/{mapping}",
        status_code=202,
        summary="A survey tool's webhook, turned into records by a declarative mapping",
        response_description="Accepted: every record is in Kafka",
        responses={404: {"description": "No such mapping"}, **REFUSALS},
    )
    async def hook(
        request: Request, token: Authenticated, mapping: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    ) -> JSONResponse:
        intake = _intake(request)
        payload = await _payload(request)
        kind, transform = mapping_for(mapping, intake.clock())
        return _respond(await intake.accept(kind, payload, transform))

    install_staff_questionnaire(app)  # GET /staff/?t=<link token>, its assets and JSON (services/intake/staff.py)

    @app.get("/healthz", summary="200 when Kafka (with the input topics) and Redis answer, else 503")
    async def healthz(request: Request) -> JSONResponse:
        intake = _intake(request)
        kafka = await intake.sender.problem(list(intake.topics.inputs()))
        try:
            await intake.tokens.ping()
            redis = None
        except (RedisError, OSError) as error:
            redis = f"Redis cannot be reached: {error}"
        body = {"service": SERVICE, "kafka": kafka or "ok", "redis": redis or "ok"}
        ok = kafka is None and redis is None
        return JSONResponse(body, status_code=200 if ok else 503, headers={} if ok else intake.retry_after())

    @app.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return app
