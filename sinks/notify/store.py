"""The notifier's deliveries in Redis: what is to be sent, when, and what was sent.

Layout (keys built from `sinks.callback_queue.PREFIX`, all under `notify:`, owned here):
- `notify:d:<delivery id>` hash: one notification of one event of one case on one channel to one
  recipient (user name or chat channel name): the case's public fields (never contact details),
  the event, whether it waits for a digest, attempts, first due time, state pending|sent|failed|skipped and
  the last failure's (or skip's) reason. Sent and failed ones expire after `sent_kept` (30 days): until then
  expanding the same event again creates nothing, so nothing is sent twice;
- `notify:due` sorted set: pending deliveries by next attempt time.

Expanding creates a delivery only where none exists (one Lua script, atomic), so an outbox entry
expanded twice (a notifier that died before acknowledging it) adds nothing. Taking due deliveries
moves them a lease ahead in the same script: two notifiers never hold one delivery at once, and one
that dies mid-send leaves its deliveries to the next after the lease.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from sinks.callback_queue import PREFIX

NAMESPACE = f"{PREFIX}notify:"
DUE = f"{NAMESPACE}due"

_EXPAND = """
local created = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    local fields = cjson.decode(ARGV[2 * i - 2])
    for name, value in pairs(fields) do redis.call('HSET', KEYS[i], name, tostring(value)) end
    redis.call('ZADD', KEYS[1], ARGV[2 * i - 3], fields['id'])
    created = created + 1
  end
end
return created
"""
_TAKE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return ids
"""

_RELEASE = """
local released = 0
for i = 3, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
    released = released + 1
  end
end
return released
"""


def delivery_key(delivery: str) -> str:
    return f"{NAMESPACE}d:{delivery}"


@dataclass(frozen=True)
class Delivery:
    """One notification to send (or sent): `channel` is email, slack, teams or json; `target` the
    user (email) or the chat channel's name."""

    id: str
    callback_id: str
    action: str
    channel: str
    target: str
    at: float  # when the event happened
    case: dict[str, str]  # processors.notify_messages.case_of's fields only
    digest: bool = False
    attempts: int = 0
    first_due: float = 0.0
    state: str = "pending"
    reason: str = ""

    def fields(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "callback_id": self.callback_id,
            "action": self.action,
            "channel": self.channel,
            "target": self.target,
            "at": repr(self.at),
            "case": json.dumps(self.case, sort_keys=True),
            "digest": int(self.digest),
            "attempts": self.attempts,
            "first_due": repr(self.first_due),
            "state": self.state,
        }


def _delivery(fields: dict[str, str]) -> Delivery:
    return Delivery(
        id=fields["id"],
        callback_id=fields["callback_id"],
        action=fields["action"],
        channel=fields["channel"],
        target=fields["target"],
        at=float(fields["at"]),
        case=json.loads(fields["case"]),
        digest=fields.get("digest") == "1",
        attempts=int(fields.get("attempts", 0)),
        first_due=float(fields.get("first_due", 0)),
        state=fields.get("state", "pending"),
        reason=fields.get("reason", ""),
    )


class NotifyStore:
    def __init__(self, client: aioredis.Redis) -> None:
        # Any: redis-py's hints cannot express decode_responses=True (str, not bytes).
        self.redis: Any = client
        self._expand = self.redis.register_script(_EXPAND)
        self._take = self.redis.register_script(_TAKE)
        self._release = self.redis.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str) -> NotifyStore:
        return cls(aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5))

    async def close(self) -> None:
        await self.redis.aclose()

    async def add(self, deliveries: list[Delivery]) -> int:
        """Create the deliveries that do not exist yet, each due at its `first_due`; how many were new."""
        if not deliveries:
            return 0
        keys = [DUE, *(delivery_key(d.id) for d in deliveries)]
        args: list[str] = []
        for d in deliveries:
            args += [repr(d.first_due), json.dumps(d.fields())]
        return int(await self._expand(keys=keys, args=args))

    async def take(self, now: float, lease: float, count: int) -> list[Delivery]:
        """Up to `count` deliveries due by `now`, leased: nobody else takes them for `lease` seconds."""
        ids = await self._take(keys=[DUE], args=[repr(now), repr(now + lease), count])
        async with self.redis.pipeline(transaction=False) as pipe:
            for delivery in ids:
                pipe.hgetall(delivery_key(delivery))
            found = await pipe.execute()
        taken = [_delivery(fields) for fields in found if fields.get("state") == "pending"]
        stale = [d for d, fields in zip(ids, found, strict=True) if fields.get("state") != "pending"]
        if stale:  # sent or given up meanwhile (or expired): nothing left to do
            await self.redis.zrem(DUE, *stale)
        return taken

    async def release(self, deliveries: list[Delivery], leased_until: float, at: float) -> int:
        """Give back taken deliveries that were not sent, due again `at`: only those still under the
        lease that ends `leased_until` (none another notifier took since)."""
        if not deliveries:
            return 0
        args = [repr(leased_until), repr(at), *(d.id for d in deliveries)]
        return int(await self._release(keys=[DUE], args=args))

    async def sent(self, delivery: Delivery, now: float, keep: float) -> None:
        await self._close(delivery, "sent", now, keep, "")

    async def failed(self, delivery: Delivery, reason: str, now: float, keep: float) -> None:
        await self._close(delivery, "failed", now, keep, reason)

    async def skipped(self, delivery: Delivery, reason: str, now: float, keep: float) -> None:
        """Nothing to tell any more (the case was resolved while the notice was held)."""
        await self._close(delivery, "skipped", now, keep, reason)

    async def _close(self, delivery: Delivery, state: str, now: float, keep: float, reason: str) -> None:
        key = delivery_key(delivery.id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"state": state, "closed_at": repr(now), "reason": reason})
            pipe.hincrby(key, "attempts", 1)
            pipe.expire(key, math.ceil(keep))
            pipe.zrem(DUE, delivery.id)
            await pipe.execute()

    async def retry(self, delivery: Delivery, reason: str, at: float) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(delivery_key(delivery.id), mapping={"reason": reason, "attempts": delivery.attempts + 1})
            pipe.zadd(DUE, {delivery.id: at})
            await pipe.execute()

    async def get(self, delivery: str) -> Delivery | None:
        fields = await self.redis.hgetall(delivery_key(delivery))
        return _delivery(fields) if fields else None

    async def pending(self) -> int:
        return int(await self.redis.zcard(DUE))
