"""The managers' accounts, sessions, tokens, failed sign-ins and audit log, against the real Redis."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
import redis

from config.settings import Settings
from processors.access import User
from sinks.accounts import AccountError, AccountStore, audit_key, failures_key, user_key
from sinks.credentials import Credentials, session_key, token_key, user_sessions_key, user_tokens_key
from sinks.intake_tokens import digest
from tools.managers import with_accounts

pytestmark = pytest.mark.integration
T = TypeVar("T")
PASSWORD = "correct horse battery"
NOW = 1_800_000_000.0


@pytest.fixture
def name(stack: Settings) -> Iterator[str]:
    """A fresh user name; its account, sessions and tokens are forgotten after the test."""
    found = f"u-{uuid.uuid4().hex[:10]}"
    yield found
    client = redis.Redis.from_url(stack.redis.dsn)
    try:
        client.delete(user_key(found), failures_key(found), user_sessions_key(found), user_tokens_key(found))
    finally:
        client.close()


def run(stack: Settings, action: Callable[[AccountStore, Credentials], Awaitable[T]]) -> T:
    return with_accounts(stack, action)


def raw(stack: Settings) -> Any:
    return redis.Redis.from_url(stack.redis.dsn, decode_responses=True)


def manager(name: str) -> User:
    return User(name, f"{name}@example.org", "manager", frozenset({"lyon-part-dieu", "paris-bercy"}))


def test_an_account_round_trips_with_its_password_hashed_with_argon2id(stack: Settings, name: str) -> None:
    run(stack, lambda a, _: a.add_user(manager(name), PASSWORD, NOW))
    assert run(stack, lambda a, _: a.user(name)) == manager(name)
    client = raw(stack)
    try:
        stored = client.hget(user_key(name), "password")
    finally:
        client.close()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert name in [u.name for u in run(stack, lambda a, _: a.users())]
    with pytest.raises(AccountError, match="exists"):
        run(stack, lambda a, _: a.add_user(manager(name), PASSWORD, NOW))
    with pytest.raises(AccountError, match="10 to 1024 characters"):
        run(stack, lambda a, _: a.add_user(manager(name + "x"), "short", NOW))


def test_only_the_right_password_of_an_enabled_account_signs_in(stack: Settings, name: str) -> None:
    run(stack, lambda a, _: a.add_user(manager(name), PASSWORD, NOW))
    assert run(stack, lambda a, _: a.authenticate(name, PASSWORD)) == manager(name)
    assert run(stack, lambda a, _: a.authenticate(name, PASSWORD + "!")) is None
    assert run(stack, lambda a, _: a.authenticate(f"nobody-{name}", PASSWORD)) is None
    run(stack, lambda a, _: a.set_password(name, "a new password, longer"))
    assert run(stack, lambda a, _: a.authenticate(name, PASSWORD)) is None
    assert run(stack, lambda a, _: a.authenticate(name, "a new password, longer")) is not None
    assert run(stack, lambda a, _: a.set_disabled(name, True, NOW)).disabled
    assert run(stack, lambda a, _: a.authenticate(name, "a new password, longer")) is None
    assert not run(stack, lambda a, _: a.set_disabled(name, False, NOW)).disabled


def test_failed_sign_ins_keep_the_last_ones_and_expire(stack: Settings, name: str) -> None:
    async def fail_seven(accounts: AccountStore, _: Credentials) -> list[float]:
        for i in range(7):
            await accounts.record_failure(name, NOW + i, keep=5, forget_after=120)
        return await accounts.signin_failures(name)

    assert run(stack, fail_seven) == [NOW + i for i in range(2, 7)]
    client = raw(stack)
    try:
        assert 0 < client.ttl(failures_key(name)) <= 120
    finally:
        client.close()
    run(stack, lambda a, _: a.clear_failures(name))
    assert run(stack, lambda a, _: a.signin_failures(name)) == []


def test_the_audit_log_appends_who_what_when_and_from_where(stack: Settings) -> None:
    callback = f"cb-{uuid.uuid4().hex[:10]}"
    run(stack, lambda a, _: a.audit(callback, "m.dupont", "claimed", "10.0.0.7", NOW))
    run(stack, lambda a, _: a.audit(callback, "m.dupont", "resolved", "10.0.0.7", NOW + 60, outcome="reached"))
    trail = run(stack, lambda a, _: a.audit_trail(callback))
    assert trail == [
        {"at": NOW, "by": "m.dupont", "action": "claimed", "from": "10.0.0.7"},
        {"at": NOW + 60, "by": "m.dupont", "action": "resolved", "from": "10.0.0.7", "outcome": "reached"},
    ]
    client = raw(stack)
    try:
        assert client.type(audit_key(callback)) == "list"
        client.delete(audit_key(callback))
    finally:
        client.close()


def test_a_session_is_kept_by_its_digest_and_ends_idle_old_closed_or_all_at_once(stack: Settings, name: str) -> None:
    idle, absolute = 600.0, 3600.0
    token, opened = run(stack, lambda _, c: c.open_session(name, NOW, idle))
    client = raw(stack)
    try:
        stored = client.hgetall(session_key(digest(token)))
        assert stored["user"] == name and stored["csrf"] == opened.csrf
        assert not client.exists(session_key(token)) and token not in json.dumps(stored)
        assert 0 < client.ttl(session_key(digest(token))) <= idle
    finally:
        client.close()
    seen = run(stack, lambda _, c: c.session(token, NOW + 300, idle, absolute))
    assert seen is not None and seen.user == name and seen.last_seen == NOW + 300
    assert run(stack, lambda _, c: c.session(token, NOW + 300 + idle, idle, absolute)) is None  # idle too long
    assert run(stack, lambda _, c: c.session(token, NOW + 301, idle, absolute)) is None  # and gone for good

    old, _ = run(stack, lambda _, c: c.open_session(name, NOW, idle))
    for t in range(500, 3600, 500):  # busy all along
        assert run(stack, lambda _, c, t=t: c.session(old, NOW + t, idle, absolute)) is not None  # type: ignore[misc]
    assert run(stack, lambda _, c: c.session(old, NOW + absolute, idle, absolute)) is None

    closed, _ = run(stack, lambda _, c: c.open_session(name, NOW, idle))
    run(stack, lambda _, c: c.close_session(closed))
    assert run(stack, lambda _, c: c.session(closed, NOW + 1, idle, absolute)) is None

    many = [run(stack, lambda _, c: c.open_session(name, NOW, idle))[0] for _ in range(3)]
    assert run(stack, lambda _, c: c.end_sessions(name)) == 3
    assert all(run(stack, lambda _, c, t=t: c.session(t, NOW + 1, idle, absolute)) is None for t in many)  # type: ignore[misc]


def test_a_personal_token_is_shown_once_kept_hashed_and_revocable(stack: Settings, name: str) -> None:
    token = run(stack, lambda _, c: c.create_token(name, "laptop", NOW))
    assert token.startswith("mim_")
    client = raw(stack)
    try:
        assert client.hget(token_key(digest(token)), "user") == name
        assert not client.exists(token_key(token))
    finally:
        client.close()
    info = run(stack, lambda _, c: c.token(token))
    assert info is not None and (info.user, info.label, info.revoked) == (name, "laptop", False)
    with pytest.raises(AccountError, match="revoke it first"):
        run(stack, lambda _, c: c.create_token(name, "laptop", NOW))
    assert run(stack, lambda _, c: c.revoke_token(name, "laptop", NOW + 5)).revoked_at == NOW + 5
    revoked = run(stack, lambda _, c: c.token(token))
    assert revoked is not None and revoked.revoked
    assert run(stack, lambda _, c: c.token(token + "x")) is None
    again = run(stack, lambda _, c: c.create_token(name, "laptop", NOW + 10))
    assert again != token and [t.revoked for t in run(stack, lambda _, c: c.tokens(name))] == [False]
    with pytest.raises(AccountError, match="no token labelled 'desk'"):
        run(stack, lambda _, c: c.revoke_token(name, "desk", NOW))
