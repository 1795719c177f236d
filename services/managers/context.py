"""What every request of the managers' app works with, built once when the app starts; and its refusals."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import Request

from config.settings import ManagersSettings, PrivacySettings
from config.topics import Topics
from processors.access import Hierarchy, Scope, SigninThrottle, User, visible_sites
from processors.inbox import RootCause
from sinks.accounts import AccountStore
from sinks.callback_queue import CallbackQueue
from sinks.credentials import Credentials
from sinks.privacy import PrivacyStore


class Sender(Protocol):
    """What publishing a CallbackOutcome needs (services.intake.sender.KafkaSender does it)."""

    async def send_many(self, records: list[tuple[str, str, bytes]]) -> list[Any]: ...
    async def problem(self, topics: list[str]) -> str | None: ...
    async def start(self) -> None: ...
    async def close(self) -> None: ...


class Refusal(Exception):
    """The request is refused: its status, a reason word, a sentence for people, headers to add."""

    def __init__(self, status: int, reason: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"reason": self.reason, "message": self.message}}


@dataclass
class Managers:
    settings: ManagersSettings
    topics: Topics
    hierarchy: Hierarchy
    accounts: AccountStore
    credentials: Credentials
    queue: CallbackQueue
    sender: Sender
    clock: Callable[[], float]
    # Signs the sign-in form's CSRF token (services/managers/auth.py).
    signin_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    # What a resolution may name (ManagersSettings.root_causes_file), by id.
    root_causes: dict[str, RootCause] = field(default_factory=dict)
    # Erasures and access requests (services/managers/privacy.py).
    privacy: PrivacyStore | None = None
    privacy_settings: PrivacySettings = field(default_factory=PrivacySettings)

    @property
    def throttle(self) -> SigninThrottle:
        s = self.settings
        return SigninThrottle(s.signin_max_failures, s.signin_window, s.signin_lock)

    @property
    def cookie(self) -> str:
        """The session cookie's name: `__Host-` makes browsers refuse it without Secure, a Domain or
        with a Path other than `/`, so no sibling subdomain can set or shadow it."""
        return "__Host-miroir_session" if self.settings.secure_cookies else "miroir_session"

    def scope(self, user: User) -> Scope:
        return visible_sites(user, self.hierarchy)

    async def close(self) -> None:
        for client in (self.accounts, self.credentials, self.queue, self.sender, self.privacy):
            if client is not None:
                await client.close()


def managers(request: Request) -> Managers:
    found: Managers = request.app.state.managers
    return found


def client_address(request: Request) -> str:
    """Where the request came from, for the audit (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return request.client.host if request.client else "unknown"
