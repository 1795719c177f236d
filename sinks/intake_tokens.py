"""The intake's bearer tokens in Redis: one per integration (a survey tool, a team's script).

Layout (keys built from `sinks.callback_queue.PREFIX`):
- `intake:token:<sha256>` hash: the token's name, when it was created, when it
  was revoked (a revoked token keeps its entry, so the intake answers 403, not 401);
- `intake:tokens` hash: name -> sha256 of its current token (listing, revoking by name).

The staff questionnaire's links (`<intake>/staff/?t=<token>`, one per site, or per site and
journey) follow the same rules in keys of their own, so neither kind opens the other's door:
- `intake:staff-link:<sha256>` hash: name, site, journey ("" for none), created_at, revoked_at;
- `intake:staff-links` hash: name -> sha256 of its current link.

Only the SHA-256 of a token is stored, never the token: `create` (`create_staff_link`) returns it once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

from sinks.callback_queue import PREFIX
from sinks.redis_pool import blocking_client

TOKENS = f"{PREFIX}intake:tokens"
TOKEN_BYTES = 32  # 256 random bits
TOKEN_MARK = "mir_"  # tells a Miroir intake token apart in a config file or a leak scanner
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def token_key(digest: str) -> str:
    return f"{PREFIX}intake:token:{digest}"


def digest(token: str) -> str:
    """SHA-256 of the token, hex.

    A fast hash is enough here, unlike for passwords: a token is 32 random bytes
    (256 bits) drawn by `secrets`, not something a person chose, so no dictionary
    or brute-force search over the digest can find it; a slow KDF (bcrypt, scrypt)
    would only add its cost to every request. What the hash buys is that a copy of
    Redis (a dump, a replica, a backup) holds nothing a client could send.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_MARK + secrets.token_urlsafe(TOKEN_BYTES)


class TokenError(ValueError):
    """A token action that cannot be done; the message says why."""


@dataclass(frozen=True)
class TokenInfo:
    name: str
    created_at: float
    revoked_at: float | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def check_name(name: str) -> str:
    if not name or len(name) > 64 or not set(name) <= NAME_CHARS:
        raise TokenError(f"token name {name!r}: 1 to 64 letters, digits, '-', '_' or '.'")
    return name


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _info(fields: dict[str, str]) -> TokenInfo:
    revoked = fields.get("revoked_at")
    return TokenInfo(fields["name"], float(fields["created_at"]), float(revoked) if revoked else None)


# ---------------------------------------------------------------- staff questionnaire links
STAFF_LINKS = f"{PREFIX}intake:staff-links"
STAFF_MARK = "mis_"  # a staff link's token (mir_: an integration's)


def staff_link_key(digest: str) -> str:
    return f"{PREFIX}intake:staff-link:{digest}"


def check_site(site: str) -> str:
    """A site as a link names it (the StaffFeedback's `site`): the characters of a token's name."""
    if not site or len(site) > 64 or not set(site) <= NAME_CHARS:
        raise TokenError(f"site {site!r}: 1 to 64 letters, digits, '-', '_' or '.'")
    return site


def staff_link_name(site: str, journey: str | None = None) -> str:
    """A link's default name: its site, and its journey when it names one (`lyon.home_delivery`)."""
    return check_name(f"{check_site(site)}.{journey}" if journey else check_site(site))


@dataclass(frozen=True)
class StaffLink:
    name: str
    site: str
    journey: str | None  # None: the person picks the journey (or none)
    created_at: float
    revoked_at: float | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def _staff_link(fields: dict[str, str]) -> StaffLink:
    revoked = fields.get("revoked_at")
    return StaffLink(
        fields["name"],
        fields["site"],
        fields.get("journey") or None,
        float(fields["created_at"]),
        float(revoked) if revoked else None,
    )


POOL_SIZE = 32  # Redis connections per process: a lookup is one round trip


class TokenStore:
    """Creates, looks up, lists and revokes intake tokens (async Redis)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client

    @classmethod
    def from_url(cls, url: str) -> TokenStore:
        return cls(blocking_client(url, POOL_SIZE))

    async def close(self) -> None:
        await self.redis.aclose()

    async def ping(self) -> None:
        await self.redis.ping()

    async def create(self, name: str, now: float) -> str:
        """A new token for `name`; the token itself is returned here and nowhere else.
        A name whose token is still valid must be revoked first."""
        check_name(name)
        current = _text(await self.redis.hget(TOKENS, name))
        if current and (info := await self.lookup_digest(current)) and not info.revoked:
            raise TokenError(f"a token named {name!r} exists; revoke it first (miroir intake token revoke)")
        token = new_token()
        key = token_key(digest(token))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"name": name, "created_at": repr(now)})
            pipe.hset(TOKENS, name, digest(token))
            await pipe.execute()
        return token

    async def lookup_digest(self, hexdigest: str) -> TokenInfo | None:
        raw = await self.redis.hgetall(token_key(hexdigest))
        fields = {str(_text(k)): str(_text(v)) for k, v in raw.items()}
        return _info(fields) if fields else None

    async def lookup(self, token: str) -> TokenInfo | None:
        """The token's entry (revoked or not), or None for a token never issued."""
        return await self.lookup_digest(digest(token))

    async def listing(self) -> list[TokenInfo]:
        names = {str(_text(k)): str(_text(v)) for k, v in (await self.redis.hgetall(TOKENS)).items()}
        infos = [await self.lookup_digest(d) for _, d in sorted(names.items())]
        return [i for i in infos if i is not None]

    async def forget(self, name: str) -> None:
        """Remove a name and its current token (a short-lived token, e.g. a simulation's): a request
        with it gets 401 from now on, as if it had never been issued."""
        current = _text(await self.redis.hget(TOKENS, check_name(name)))
        async with self.redis.pipeline(transaction=True) as pipe:
            if current:
                pipe.delete(token_key(current))
            pipe.hdel(TOKENS, name)
            await pipe.execute()

    async def revoke(self, name: str, now: float) -> TokenInfo:
        current = _text(await self.redis.hget(TOKENS, check_name(name)))
        info = await self.lookup_digest(current) if current else None
        if current is None or info is None:
            raise TokenError(f"no token named {name!r}")
        if info.revoked:
            return info
        await self.redis.hset(token_key(current), "revoked_at", repr(now))
        return TokenInfo(info.name, info.created_at, now)

    # ---- the staff questionnaire's links

    async def create_staff_link(self, site: str, journey: str | None, now: float, name: str | None = None) -> str:
        """A new link token for `site` (and `journey`), returned here and nowhere else; a name whose
        link is still valid must be revoked first."""
        check_site(site)
        name = check_name(name) if name else staff_link_name(site, journey)
        current = _text(await self.redis.hget(STAFF_LINKS, name))
        if current and (link := await self.lookup_staff_link_digest(current)) and not link.revoked:
            raise TokenError(f"a staff link named {name!r} exists; revoke it first (miroir intake staff-link --revoke)")
        token = STAFF_MARK + secrets.token_urlsafe(TOKEN_BYTES)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                staff_link_key(digest(token)),
                mapping={"name": name, "site": site, "journey": journey or "", "created_at": repr(now)},
            )
            pipe.hset(STAFF_LINKS, name, digest(token))
            await pipe.execute()
        return token

    async def lookup_staff_link_digest(self, hexdigest: str) -> StaffLink | None:
        raw = await self.redis.hgetall(staff_link_key(hexdigest))
        fields = {str(_text(k)): str(_text(v)) for k, v in raw.items()}
        return _staff_link(fields) if fields else None

    async def lookup_staff_link(self, token: str) -> StaffLink | None:
        """The link's entry (revoked or not), or None for a link never issued."""
        return await self.lookup_staff_link_digest(digest(token))

    async def staff_links(self) -> list[StaffLink]:
        names = {str(_text(k)): str(_text(v)) for k, v in (await self.redis.hgetall(STAFF_LINKS)).items()}
        links = [await self.lookup_staff_link_digest(d) for _, d in sorted(names.items())]
        return [link for link in links if link is not None]

    async def revoke_staff_link(self, name: str, now: float) -> StaffLink:
        current = _text(await self.redis.hget(STAFF_LINKS, check_name(name)))
        link = await self.lookup_staff_link_digest(current) if current else None
        if current is None or link is None:
            raise TokenError(f"no staff link named {name!r} (miroir intake staff-link --list)")
        if link.revoked:
            return link
        await self.redis.hset(staff_link_key(current), "revoked_at", repr(now))
        return StaffLink(link.name, link.site, link.journey, link.created_at, now)

    async def forget_staff_link(self, name: str) -> None:
        """Remove a name and its current link (a demo's): it answers 404 from now on."""
        current = _text(await self.redis.hget(STAFF_LINKS, check_name(name)))
        async with self.redis.pipeline(transaction=True) as pipe:
            if current:
                pipe.delete(staff_link_key(current))
            pipe.hdel(STAFF_LINKS, name)
            await pipe.execute()
