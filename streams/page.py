"""The live mirror page: plain HTML/CSS/JS served by the worker, updated by server-sent events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web as aiohttp_web
from faust import web

from processors import mirror_types
from processors.config import pipeline_config
from streams.access import requires_token
from streams.app import app

WEB_DIR = Path(__file__).parent / "web"
STATIC = {"mirror.js": "application/javascript", "mirror.css": "text/css"}
EVENT_INTERVAL = 1.0


@cache
def _asset(name: str) -> str:
    return (WEB_DIR / name).read_text(encoding="utf-8")


def journeys() -> dict[str, Any]:
    return {
        journey.id: {
            "label": journey.label,
            "steps": [{"id": step.id, "label": step.label} for step in journey.steps],
        }
        for journey in pipeline_config().taxonomy.journeys.values()
    }


@app.page("/")
@requires_token
async def mirror_page(self: web.View, request: web.Request) -> web.Response:
    return self.html(_asset("index.html"))


@app.page("/static/{name}")
async def static_asset(self: web.View, request: web.Request, name: str) -> web.Response:
    if name not in STATIC:
        raise self.NotFound(f"no asset {name}")
    return self.text(_asset(name), content_type=STATIC[name])


@app.page("/journeys/")
@requires_token
async def journeys_view(self: web.View, request: web.Request) -> web.Response:
    return self.json(journeys())


@app.page("/types/")
@requires_token
async def types_view(self: web.View, request: web.Request) -> web.Response:
    """The mirror types' table (ids in display order, FR/EN labels, colours): the page's only source."""
    return self.json(mirror_types.as_json())


_latest: tuple[float, str] = (0.0, "")


async def _shared_readout(readout: Callable[[], Awaitable[dict[str, Any]]]) -> str:
    """The read-out as JSON, computed at most once per interval however many wallboards listen."""
    global _latest
    if time.monotonic() - _latest[0] >= EVENT_INTERVAL:
        _latest = (time.monotonic(), json.dumps(await readout(), separators=(",", ":"), default=str))
    return _latest[1]


@app.page("/events/")
@requires_token
async def mirror_events(self: web.View, request: web.Request) -> Any:
    """Server-sent events: the mirror read-out whenever it changes (checked every second)."""
    from streams.views import mirror_readout

    response = aiohttp_web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)  # type: ignore[arg-type]
    last = None
    try:
        while True:
            payload = await _shared_readout(mirror_readout)
            if payload != last:
                await response.write(f"data: {payload}\n\n".encode())
                last = payload
            else:
                await response.write(b": keep-alive\n\n")
            await asyncio.sleep(EVENT_INTERVAL)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response
