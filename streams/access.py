"""Who may read the mirror: with MIROIR_WEB_TOKEN set, the page and the JSON API need it.

Sent as `Authorization: Bearer <token>` or `?token=<token>` (the page passes it on
to its own requests). Static assets and /metrics carry no data and stay open.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from functools import wraps
from typing import Any

from config.settings import settings


def authorized(headers: Mapping[str, str], query: Mapping[str, str], token: str | None) -> bool:
    if not token:
        return True
    given = headers.get("Authorization", "").removeprefix("Bearer ").strip() or query.get("token", "")
    return hmac.compare_digest(given.encode(), token.encode())


def requires_token(view: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @wraps(view)
    async def guarded(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        token = settings.pipeline.web_token.get_secret_value() if settings.pipeline.web_token else None
        if not authorized(request.headers, request.query, token):
            return self.json({"error": "a token is needed: Authorization: Bearer <token> or ?token="}, status=401)
        return await view(self, request, *args, **kwargs)

    return guarded
