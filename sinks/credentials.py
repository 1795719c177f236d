"""What a manager presents on each request, in Redis: a browser's session, a script's personal API token.

Layout (under `sinks.accounts.NAMESPACE`, owned here):
- `accounts:session:<sha256>` hash: user, created_at, last_seen, csrf; it expires with the session;
- `accounts:user:<name>:sessions` set: the user's session digests (ending them all: sign-out
  everywhere, a disabled account, a new password);
- `accounts:token:<sha256>` hash: user, label, created_at, revoked_at (a revoked token keeps its
  entry, so it is told apart from one never issued);
- `accounts:user:<name>:tokens` hash: label -> sha256 of the user's token of that label.

Both are 256 random bits; only their SHA-256 is stored (`sinks.intake_tokens.digest` says why a
fast hash is enough for them), so a copy of Redis holds nothing a browser or a script could send.
The session's CSRF token is kept with it (a synchronizer token: services/managers/auth.py).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from processors.access import check_name, session_over
from sinks.accounts import NAMESPACE, AccountError
from sinks.intake_tokens import TOKEN_BYTES, digest

TOKEN_MARK = "mim_"  # a manager's personal token (mir_: an integration's, mis_: a staff link's)


def session_key(hexdigest: str) -> str:
    return f"{NAMESPACE}session:{hexdigest}"


def user_sessions_key(name: str) -> str:
    return f"{NAMESPACE}user:{name}:sessions"


def token_key(hexdigest: str) -> str:
    return f"{NAMESPACE}token:{hexdigest}"


def user_tokens_key(name: str) -> str:
    return f"{NAMESPACE}user:{name}:tokens"


@dataclass(frozen=True)
class Session:
    user: str
    csrf: str
    created_at: float
    last_seen: float


@dataclass(frozen=True)
class ApiToken:
    user: str
    label: str
    created_at: float
    revoked_at: float | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def _api_token(fields: dict[str, str]) -> ApiToken:
    revoked = fields.get("revoked_at")
    return ApiToken(fields["user"], fields["label"], float(fields["created_at"]), float(revoked) if revoked else None)


class Credentials:
    """Sessions and personal API tokens (async Redis)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.redis: Any = client  # decode_responses=True: str, not bytes

    @classmethod
    def from_url(cls, url: str) -> Credentials:
        return cls(aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5))

    async def close(self) -> None:
        await self.redis.aclose()

    # ------------------------------------------------------------ sessions

    async def open_session(self, user: str, now: float, idle: float) -> tuple[str, Session]:
        """A new session for `user`: its token (for the cookie, returned here only) and the session."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        session = Session(user, secrets.token_urlsafe(TOKEN_BYTES), now, now)
        key = session_key(digest(token))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key, mapping={"user": user, "csrf": session.csrf, "created_at": repr(now), "last_seen": repr(now)}
            )
            pipe.expire(key, math.ceil(idle))
            pipe.sadd(user_sessions_key(user), digest(token))
            await pipe.execute()
        return token, session

    async def session_alive(self, token: str, now: float, idle: float, absolute: float) -> bool:
        """Whether this cookie's session is open, without seeing it: its idle clock does not start
        again (a live page left open must not keep a session alive on its own)."""
        fields = await self.redis.hgetall(session_key(digest(token)))
        return bool(fields) and not session_over(
            float(fields["created_at"]), float(fields["last_seen"]), now, idle, absolute
        )

    async def session(self, token: str, now: float, idle: float, absolute: float) -> Session | None:
        """The session of this cookie, seen now (its idle clock starts again), or None: never opened,
        closed, or over (unused for `idle` seconds, or older than `absolute`)."""
        key = session_key(digest(token))
        fields = await self.redis.hgetall(key)
        if not fields:
            return None
        created, seen = float(fields["created_at"]), float(fields["last_seen"])
        if session_over(created, seen, now, idle, absolute):
            await self._forget(fields["user"], digest(token))
            return None
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, "last_seen", repr(now))
            # Redis forgets it when either clock runs out, even if no request ever comes back.
            pipe.expire(key, max(1, math.ceil(min(idle, created + absolute - now))))
            await pipe.execute()
        return Session(fields["user"], fields["csrf"], created, now)

    async def close_session(self, token: str) -> None:
        user = await self.redis.hget(session_key(digest(token)), "user")
        if user:
            await self._forget(user, digest(token))

    async def _forget(self, user: str, hexdigest: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(session_key(hexdigest))
            pipe.srem(user_sessions_key(user), hexdigest)
            await pipe.execute()

    async def end_sessions(self, user: str) -> int:
        """Close every session of `user` (a disabled account, a new password); how many were open."""
        digests = await self.redis.smembers(user_sessions_key(user))
        async with self.redis.pipeline(transaction=True) as pipe:
            for hexdigest in digests:
                pipe.delete(session_key(hexdigest))
            pipe.delete(user_sessions_key(user))
            found = await pipe.execute()
        return sum(found[:-1])

    # ------------------------------------------------------------ personal API tokens

    async def create_token(self, user: str, label: str, now: float) -> str:
        """A new token for `user`'s scripts, returned here only; a label whose token is still valid
        must be revoked first."""
        check_name(label, "token label")
        current = await self.redis.hget(user_tokens_key(user), label)
        if current and (info := await self._token(current)) and not info.revoked:
            raise AccountError(f"{user} has a token labelled {label!r}; revoke it first (miroir users token revoke)")
        token = TOKEN_MARK + secrets.token_urlsafe(TOKEN_BYTES)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(token_key(digest(token)), mapping={"user": user, "label": label, "created_at": repr(now)})
            pipe.hset(user_tokens_key(user), label, digest(token))
            await pipe.execute()
        return token

    async def _token(self, hexdigest: str) -> ApiToken | None:
        fields = await self.redis.hgetall(token_key(hexdigest))
        return _api_token(fields) if fields else None

    async def token(self, token: str) -> ApiToken | None:
        """The token's entry (revoked or not), or None for one never issued."""
        return await self._token(digest(token))

    async def tokens(self, user: str) -> list[ApiToken]:
        found = [await self._token(d) for _, d in sorted((await self.redis.hgetall(user_tokens_key(user))).items())]
        return [info for info in found if info is not None]

    async def revoke_token(self, user: str, label: str, now: float) -> ApiToken:
        current = await self.redis.hget(user_tokens_key(user), label)
        info = await self._token(current) if current else None
        if current is None or info is None:
            raise AccountError(f"{user} has no token labelled {label!r} (miroir users token list --name {user})")
        if not info.revoked:
            await self.redis.hset(token_key(current), "revoked_at", repr(now))
        return await self._token(current) or info
