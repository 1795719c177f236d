"""A managers' app of its own for a test or the demo (`miroir managers serve` on a free port, see
tools/services.py), the accounts stores for one action at a time, and the demo's managers."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from config.settings import Settings
from processors.access import User
from sinks.accounts import AccountStore
from sinks.credentials import Credentials
from tools.services import RunningService, spawn_service

T = TypeVar("T")


def spawn_managers(log: Path, **env: str) -> RunningService:
    """`miroir managers serve` on a free port with these MIROIR_* overrides, answering."""
    return spawn_service("managers", log, **env)


def with_accounts(settings: Settings, action: Callable[[AccountStore, Credentials], Awaitable[T]]) -> T:
    """Run one action on the real accounts and credentials stores."""

    async def go() -> T:
        accounts, credentials = AccountStore.from_url(settings.redis.dsn), Credentials.from_url(settings.redis.dsn)
        try:
            return await action(accounts, credentials)
        finally:
            await accounts.close()
            await credentials.close()

    return asyncio.run(go())


def demo_managers(settings: Settings, sites: tuple[str, ...]) -> list[tuple[str, str]]:
    """A manager per site, `demo-<site>`, with a new password each call (printed by the demo, so
    none is shipped in the code or left valid from an earlier demo): (name, password) per site."""

    async def each(accounts: AccountStore, _: Credentials) -> list[tuple[str, str]]:
        made = []
        for site in sites:
            name, password = f"demo-{site}", secrets.token_urlsafe(12)
            if await accounts.user(name) is None:
                user = User(name, f"{name}@example.org", "manager", frozenset({site}))
                await accounts.add_user(user, password, time.time())
            else:
                await accounts.set_password(name, password)
                await accounts.set_disabled(name, False, time.time())
            made.append((name, password))
        return made

    return with_accounts(settings, each)
