"""The inbox's live changes: `GET /v1/events`, server-sent events (text/event-stream).

Each change of a callback the caller may see (sinks.callback_queue's events stream: admission,
claim, release, reassign, resolve, reopen, escalation) is sent as `event: change`, its `id` the
stream's, its data `{callback_id, site, action, by, at}`: nothing about the customer, the page
fetches what it shows through the scoped API. A reconnecting browser sends `Last-Event-ID` and gets
what it missed (of the last EVENTS_KEPT changes). A comment every `events_heartbeat` seconds keeps
proxies from closing an idle stream; then the caller is checked again, and the stream ends
(`event: signed_out`) once their session is over, their account disabled or their token revoked.
The check reads the session without touching it: an open page alone does not keep a session alive.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from processors.access import User
from services.managers.auth import Caller, Identified
from services.managers.context import Managers, managers

router = APIRouter(prefix="/v1")
EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
BLOCK_MS = 3000  # under the Redis client's 5 s socket timeout
RETRY_MS = 3000  # how soon a browser reconnects after the stream ends or breaks


async def _still_allowed(app: Managers, caller: Caller, cookie: str | None, now: float) -> User | None:
    """The caller's account as it is now, while their session or token still holds; else None."""
    user = await app.accounts.user(caller.user.name)
    if user is None or user.disabled:
        return None
    if caller.session is None:
        token = await app.credentials.token(caller.token or "")
        return user if token is not None and not token.revoked else None
    s = app.settings
    return user if await app.credentials.session_alive(cookie or "", now, s.session_idle, s.session_max) else None


async def _stream(app: Managers, caller: Caller, cookie: str | None, after: str) -> AsyncIterator[str]:
    scope = app.scope(caller.user)
    yield f"retry: {RETRY_MS}\n: connected\n\n"
    beat = time.monotonic()
    while True:
        for event_id, fields in await app.queue.events_after(after, BLOCK_MS):
            after = event_id
            if scope.covers(fields.get("site", "")):
                yield f"id: {event_id}\nevent: change\ndata: {json.dumps(fields)}\n\n"
        if time.monotonic() - beat >= app.settings.events_heartbeat:
            beat = time.monotonic()
            user = await _still_allowed(app, caller, cookie, app.clock())
            if user is None:
                yield "event: signed_out\ndata: {}\n\n"
                return
            scope = app.scope(user)  # sites taken away (or given) count from now on
            yield ": heartbeat\n\n"


@router.get(
    "/events",
    summary="Live changes of the callbacks you see (server-sent events; Last-Event-ID resumes)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, 401: {}},
)
async def events(
    request: Request,
    caller: Identified,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)] = None,
) -> StreamingResponse:
    app = managers(request)
    after = last_event_id if last_event_id and EVENT_ID.match(last_event_id) else await app.queue.last_event()
    return StreamingResponse(
        _stream(app, caller, request.cookies.get(app.cookie), after),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},  # nginx: pass each event on at once
    )
