"""The intake's Prometheus metrics, one registry per app (tests build several apps in one process).

Labels are bounded: route (the route's template, not the path), status, token
(the names `miroir intake token create` gave), kind (survey, staff) and outcome.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_NAME = "intake_token_name"  # where authentication leaves the token's name (the request's state)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class IntakeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "miroir_intake_requests",
            "HTTP requests to the intake by route, status and token name",
            ["route", "status", "token"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "miroir_intake_request_seconds",
            "Time to answer a request (for a POST: until Kafka confirmed its records)",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=self.registry,
        )
        self.records = Counter(
            "miroir_intake_records",
            "Records by kind and outcome: accepted (in Kafka), rejected (422), unavailable (not confirmed)",
            ["kind", "outcome"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts every answer (401, 413 and 429 included) by its route's template and token name."""

    def __init__(self, app: ASGIApp, metrics: IntakeMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        started = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "other"
            token = state.get(TOKEN_NAME, "-")
            self.metrics.requests.labels(route, str(status[0]), token).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
