"""The demo's managers: one per site, signing in with the password the demo printed, that one only."""

from __future__ import annotations

import uuid

import pytest

from config.settings import Settings
from processors.access import User
from sinks.accounts import AccountStore
from sinks.credentials import Credentials
from tools.managers import demo_managers, with_accounts

pytestmark = pytest.mark.integration


def test_each_demo_makes_a_manager_per_site_with_a_new_password(stack: Settings) -> None:
    sites = (f"site-{uuid.uuid4().hex[:8]}", f"site-{uuid.uuid4().hex[:8]}")
    first = demo_managers(stack, sites)
    with_accounts(stack, lambda accounts, _: accounts.set_disabled(first[0][0], True, 0.0))
    again = demo_managers(stack, sites)
    assert [name for name, _ in again] == [f"demo-{site}" for site in sites] == [name for name, _ in first]
    for (name, old), (_, new), site in zip(first, again, sites, strict=True):
        assert old != new
        assert signed_in(stack, name, old) is None
        user = signed_in(stack, name, new)
        assert user is not None and user.sites == {site} and user.role == "manager" and not user.disabled


def signed_in(stack: Settings, name: str, password: str) -> User | None:
    async def authenticate(accounts: AccountStore, _: Credentials) -> User | None:
        return await accounts.authenticate(name, password)

    return with_accounts(stack, authenticate)
