"""A managers' app of its own for a test or the demo (`miroir managers serve` on a free port, see
tools/services.py), and the accounts stores, for one action at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from config.settings import Settings
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
