"""`miroir users notify`: a user's notification preferences, shown and changed, in the real Redis."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from typer.testing import CliRunner

from config.settings import Settings
from miroir.cli import app as cli
from processors.access import User
from processors.notifications import Preferences, parse_quiet
from sinks.accounts import user_key
from tools.managers import with_accounts

pytestmark = pytest.mark.integration


@pytest.fixture
def name(stack: Settings) -> Iterator[str]:
    found = f"u-{uuid.uuid4().hex[:10]}"
    user = User(found, f"{found}@example.org", "manager", frozenset({"lyon-part-dieu"}))
    with_accounts(stack, lambda accounts, _: accounts.add_user(user, "a long enough password", time.time()))
    yield found
    client = redis.Redis.from_url(stack.redis.dsn)
    try:
        client.delete(user_key(found))
    finally:
        client.close()


def test_a_users_choice_of_email_quiet_hours_digest_and_language(stack: Settings, name: str) -> None:
    runner = CliRunner()
    shown = runner.invoke(cli, ["users", "notify", "--name", name])
    assert shown.exit_code == 0 and "on" in shown.output and "off" in shown.output, shown.output
    changed = runner.invoke(
        cli, ["users", "notify", "--name", name, "--quiet", "20:00-08:00", "--digest", "daily", "--language", "en"]
    )
    assert changed.exit_code == 0, changed.output
    stored = with_accounts(stack, lambda accounts, _: accounts.preferences(name))
    assert stored == Preferences(email=True, quiet=parse_quiet("20:00-08:00"), digest="daily", language="en")
    assert runner.invoke(cli, ["users", "notify", "--name", name, "--email", "off", "--quiet", "off"]).exit_code == 0
    stored = with_accounts(stack, lambda accounts, _: accounts.preferences(name))
    assert stored == Preferences(email=False, quiet=None, digest="daily", language="en")
    refused = runner.invoke(cli, ["users", "notify", "--name", name, "--quiet", "8h-20h"])
    assert refused.exit_code == 2 and "HH:MM-HH:MM" in refused.output
    unknown = runner.invoke(cli, ["users", "notify", "--name", "nobody-at-all", "--digest", "hourly"])
    assert unknown.exit_code == 1 and "no user" in unknown.output
