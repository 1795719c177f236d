"""The managers' accounts in Redis: users and their passwords, failed sign-ins, and the audit log of
what people did to each callback. Their sessions and personal API tokens: `sinks/credentials.py`.

Layout (keys built from `sinks.callback_queue.PREFIX`, all under `accounts:`, owned here):
- `accounts:users` set of names; `accounts:user:<name>` hash: email, role, sites (comma-separated),
  region, password (argon2id: its salt and parameters travel inside), created_at, disabled_at, and
  the notification preferences notify_email, notify_quiet, notify_digest, notify_language
  (`processors.notifications.Preferences`; absent: e-mail on, no quiet hours, no digest, French);
- `accounts:signin-failures:<name>` list: when the name's recent sign-ins failed (expires);
- `accounts:audit:<callback id>` list: who did what to the callback, when, from which address.
  Append-only: nothing in Miroir rewrites or removes an entry.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's low-memory choice): slow
and memory-hard on purpose, because people choose passwords and a copy of Redis must not let
anyone try a dictionary against them cheaply. Hashing and checking run in a thread: each takes
tens of milliseconds of CPU, which would otherwise stall every other request of the service.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from functools import cache
from typing import Any

import redis.asyncio as aioredis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from processors.access import AccessError, User, check_name, check_user
from processors.notifications import NotifyError, Preferences, preferences
from sinks.callback_queue import PREFIX

log = logging.getLogger(__name__)
NAMESPACE = f"{PREFIX}accounts:"
USERS = f"{NAMESPACE}users"
PASSWORD_CHARS = (10, 1024)  # shortest and longest password taken


def user_key(name: str) -> str:
    return f"{NAMESPACE}user:{name}"


def failures_key(name: str) -> str:
    return f"{NAMESPACE}signin-failures:{name}"


def audit_key(callback_id: str) -> str:
    return f"{NAMESPACE}audit:{callback_id}"


class AccountError(ValueError):
    """An account action that cannot be done; the message says why."""


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _decoy() -> str:
    """A hash to check unknown names against, so they take as long to refuse as a wrong password."""
    return _hasher().hash("not a password of anyone's")


def check_password(password: str) -> str:
    shortest, longest = PASSWORD_CHARS
    if not shortest <= len(password) <= longest:
        raise AccountError(f"a password has {shortest} to {longest} characters (got {len(password)})")
    return password


def _verify(hashed: str, password: str) -> bool:
    try:
        return bool(_hasher().verify(hashed, password))
    except (VerificationError, InvalidHashError):
        return False


def _user(fields: dict[str, str]) -> User:
    return User(
        name=fields["name"],
        email=fields["email"],
        role=fields["role"],  # type: ignore[arg-type]  # written by add_user from a checked User
        sites=frozenset(s for s in fields.get("sites", "").split(",") if s),
        region=fields.get("region") or None,
        disabled=bool(fields.get("disabled_at")),
    )


class AccountStore:
    """Users, passwords, failed sign-ins and the callbacks' audit log (async Redis)."""

    def __init__(self, client: aioredis.Redis) -> None:
        # Any: redis-py's hints cannot express decode_responses=True (str, not bytes).
        self.redis: Any = client

    @classmethod
    def from_url(cls, url: str) -> AccountStore:
        return cls(aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5))

    async def close(self) -> None:
        await self.redis.aclose()

    async def ping(self) -> None:
        await self.redis.ping()

    # ------------------------------------------------------------ users

    async def add_user(self, user: User, password: str, now: float) -> User:
        check_user(user)
        hashed = await asyncio.to_thread(_hasher().hash, check_password(password))
        # HSETNX on the name claims it atomically: two admins adding one name make one account.
        if not await self.redis.hsetnx(user_key(user.name), "name", user.name):
            raise AccountError(f"a user named {user.name!r} exists (miroir users list)")
        fields = {
            "email": user.email,
            "role": user.role,
            "sites": ",".join(sorted(user.sites)),
            "region": user.region or "",
            "password": hashed,
            "created_at": repr(now),
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(user_key(user.name), mapping=fields)
            pipe.sadd(USERS, user.name)
            await pipe.execute()
        return user

    async def user(self, name: str) -> User | None:
        try:
            check_name(name, "user name")
        except AccessError:
            return None
        fields = await self.redis.hgetall(user_key(name))
        return _user(fields) if "role" in fields else None

    async def users(self) -> list[User]:
        found = [await self.user(name) for name in sorted(await self.redis.smembers(USERS))]
        return [user for user in found if user is not None]

    async def _known(self, name: str) -> User:
        user = await self.user(name)
        if user is None:
            raise AccountError(f"no user named {name!r} (miroir users list)")
        return user

    async def set_disabled(self, name: str, disabled: bool, now: float) -> User:
        """Disable (or enable again) an account. A disabled user's sessions and tokens are refused
        from the next request on: the service reads the account on every request."""
        await self._known(name)
        if disabled:
            await self.redis.hset(user_key(name), "disabled_at", repr(now))
        else:
            await self.redis.hdel(user_key(name), "disabled_at")
        return await self._known(name)

    async def preferences(self, name: str) -> Preferences:
        """How the user wants to be told of callbacks (their e-mail on or off, quiet hours, digest)."""
        await self._known(name)
        return self._preferences(name, await self.redis.hgetall(user_key(name)))

    async def set_preferences(self, name: str, prefs: Preferences) -> Preferences:
        await self._known(name)
        await self.redis.hset(user_key(name), mapping=prefs.fields())
        return prefs

    async def recipients(self) -> list[tuple[User, Preferences]]:
        """Every account with its notification preferences, in one round trip (the notifier's read)."""
        names = sorted(await self.redis.smembers(USERS))
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(user_key(name))
            found = await pipe.execute()
        people = []
        for name, fields in zip(names, found, strict=True):
            if "role" not in fields:
                continue
            try:
                prefs = self._preferences(name, fields)
            except AccountError as error:  # one hand-edited account must not silence everyone's
                log.error("notification preferences ignored, defaults used: %s", error)
                prefs = Preferences()
            people.append((_user(fields), prefs))
        return people

    @staticmethod
    def _preferences(name: str, fields: dict[str, str]) -> Preferences:
        try:
            return preferences(fields)
        except NotifyError as error:  # written by set_preferences from a checked value: a hand edit
            raise AccountError(f"{name}: {error}") from None

    async def set_password(self, name: str, password: str) -> None:
        await self._known(name)
        hashed = await asyncio.to_thread(_hasher().hash, check_password(password))
        await self.redis.hset(user_key(name), "password", hashed)

    async def authenticate(self, name: str, password: str) -> User | None:
        """The account when `password` is its password and it is not disabled, else None (which of
        the name or the password was wrong is nobody's business)."""
        user = await self.user(name)
        hashed = await self.redis.hget(user_key(name), "password") if user else None
        right = await asyncio.to_thread(_verify, hashed or _decoy(), password)
        if user is None or hashed is None or not right or user.disabled:
            return None
        if _hasher().check_needs_rehash(hashed):  # the parameters were raised since: upgrade it now
            await self.redis.hset(user_key(name), "password", await asyncio.to_thread(_hasher().hash, password))
        return user

    # ------------------------------------------------------------ failed sign-ins

    async def signin_failures(self, name: str) -> list[float]:
        return [float(t) for t in await self.redis.lrange(failures_key(name), 0, -1)]

    async def record_failure(self, name: str, now: float, keep: int, forget_after: float) -> None:
        """Remember a failed sign-in: the last `keep` of them, for `forget_after` seconds."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(failures_key(name), repr(now))
            pipe.ltrim(failures_key(name), -keep, -1)
            pipe.expire(failures_key(name), math.ceil(forget_after))
            await pipe.execute()

    async def clear_failures(self, name: str) -> None:
        await self.redis.delete(failures_key(name))

    # ------------------------------------------------------------ the audit log

    async def audit(self, callback_id: str, who: str, action: str, source: str, now: float, **details: Any) -> None:
        entry = {"at": now, "by": who, "action": action, "from": source, **details}
        await self.redis.rpush(audit_key(callback_id), json.dumps(entry, ensure_ascii=False))

    async def audit_trail(self, callback_id: str) -> list[dict[str, Any]]:
        return [json.loads(entry) for entry in await self.redis.lrange(audit_key(callback_id), 0, -1)]
