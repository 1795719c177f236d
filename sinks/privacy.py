"""Personal data in Redis: erasures, access requests and the retention purge of callbacks.

Layout (keys built from `sinks.callback_queue.PREFIX`, all under `privacy:`, owned here):
- `privacy:secret` string: the key of the subject hashes when MIROIR_PRIVACY_SECRET is unset
  (made at random once, shared by every process of this Redis);
- `privacy:erased` hash: subject key (processors/privacy.py) -> when it was erased. The intake and
  the pipeline refuse what is about an erased subject, so a replay or a retried webhook cannot bring
  the person back;
- `privacy:purged-at` string: when a worker last ran the retention purge;
- `privacy:erasures` stream: each erasure and access request (who, when, from where, which subject
  keys, what was found): the audit of privacy actions, and how workers hear of new erasures.

The callbacks themselves stay the callback queue's keys (sinks/callback_queue.py builds them); this
module reads and cuts their personal fields: a case keeps what the loop figures need (site, step,
score, status, times, outcome) and loses what says who the customer is.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis

from processors.privacy import CONTACT_FIELDS, PERSONAL_FIELDS, Retention, subjects_of
from sinks.callback_queue import (
    DUE,
    PREFIX,
    callback_key,
    customer_callbacks_key,
    customer_key,
    history_key,
    site_step_due,
    unclaimed_key,
)

NAMESPACE = f"{PREFIX}privacy:"
SECRET = f"{NAMESPACE}secret"
ERASED = f"{NAMESPACE}erased"
ERASURES = f"{NAMESPACE}erasures"
PURGED_AT = f"{NAMESPACE}purged-at"
POOL_SIZE = 50
SCAN_CHUNK = 500  # callbacks read per round trip while scanning


class PrivacyStore:
    def __init__(self, client: aioredis.Redis) -> None:
        # Any: redis-py's hints cannot express decode_responses=True (str, not bytes).
        self.redis: Any = client

    @classmethod
    def from_url(cls, url: str) -> PrivacyStore:
        # Blocking, as the intake's token store (sinks/intake_tokens.py): the intake asks it once per
        # POST, and a burst must wait for a connection, not be refused one.
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, timeout=5, decode_responses=True, socket_timeout=5, socket_connect_timeout=5
        )
        return cls(aioredis.Redis.from_pool(pool))  # closing the client closes its pool

    async def close(self) -> None:
        await self.redis.aclose()

    async def secret(self, configured: str | None) -> bytes:
        """The subject hashes' key: the configured one, else this Redis's (made once, kept)."""
        if configured:
            return configured.encode()
        await self.redis.set(SECRET, secrets.token_hex(32), nx=True)
        return str(await self.redis.get(SECRET)).encode()

    # ------------------------------------------------------------ erasures

    async def erased_among(self, keys: set[str]) -> set[str]:
        """Those of `keys` whose subject was erased (one round trip)."""
        if not keys:
            return set()
        ordered = sorted(keys)
        found = await self.redis.hmget(ERASED, ordered)
        return {key for key, at in zip(ordered, found, strict=True) if at is not None}

    async def all_erased(self) -> set[str]:
        return set(await self.redis.hkeys(ERASED))

    async def record(self, action: str, keys: set[str], who: str, source: str, now: float, **found: Any) -> str:
        """An erasure (its keys refused from now on) or an access request, in the audit stream."""
        entry = {"action": action, "keys": json.dumps(sorted(keys)), "by": who, "from": source, "at": repr(now)}
        async with self.redis.pipeline(transaction=True) as pipe:
            if action == "erase" and keys:
                pipe.hset(ERASED, mapping=dict.fromkeys(keys, repr(now)))
            pipe.xadd(ERASURES, {**entry, "found": json.dumps(found, sort_keys=True)})
            entry_id = (await pipe.execute())[-1]
        return str(entry_id)

    async def erasures_after(self, last: str, count: int = 100) -> tuple[str, set[str], bool]:
        """The subject keys erased after stream entry `last` ("0": from the first), the id of the
        last entry read, and whether there may be more."""
        entries = await self.redis.xrange(ERASURES, f"({last}" if last != "0" else "-", count=count)
        keys: set[str] = set()
        for entry_id, fields in entries:
            last = entry_id
            if fields.get("action") == "erase":
                keys |= set(json.loads(fields["keys"]))
        return last, keys, len(entries) == count

    async def last_purge(self) -> float:
        """When a worker of this Redis last ran the retention purge (0: never)."""
        return float(await self.redis.get(PURGED_AT) or 0.0)

    async def audit(self, count: int = 100) -> list[dict[str, Any]]:
        """The latest privacy actions, newest first."""
        entries = await self.redis.xrevrange(ERASURES, count=count)
        return [{"id": entry_id, **fields} for entry_id, fields in entries]

    # ------------------------------------------------------------ the callbacks of a subject

    async def _callbacks(self) -> AsyncIterator[list[tuple[str, dict[str, str]]]]:
        """Every callback the queue holds, a chunk at a time (SCAN: no lock, no index to keep)."""
        chunk: list[str] = []
        async for key in self.redis.scan_iter(match=callback_key("*"), count=SCAN_CHUNK, _type="HASH"):
            chunk.append(key)
            if len(chunk) >= SCAN_CHUNK:
                yield await self._read(chunk)
                chunk = []
        if chunk:
            yield await self._read(chunk)

    async def _read(self, keys: list[str]) -> list[tuple[str, dict[str, str]]]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(key)
            found = await pipe.execute()
        # The customer's index (`cb:customer:<ref>`) matches the pattern too: only callbacks have an id.
        return [(fields["callback_id"], fields) for fields in found if fields.get("callback_id")]

    async def callbacks_of(self, keys: set[str], secret: bytes) -> list[dict[str, Any]]:
        """Every callback about one of `keys` (its customer ref, e-mail or phone), with its history.

        A scan of every callback rather than an index: matching by e-mail or phone then works for
        answers with no customer ref, and no second copy of anyone's contact is kept for it."""
        found = []
        async for chunk in self._callbacks():
            for callback, fields in chunk:
                if subjects_of(fields, secret) & keys:
                    history = await self.redis.lrange(history_key(callback), 0, -1)
                    found.append({**fields, "history": [json.loads(h) for h in history]})
        return found

    async def erase(self, callbacks: list[dict[str, Any]], who: str, now: float) -> int:
        """Cut everything personal from these callbacks; an open one leaves the managers' lists
        (nobody may call back a person who asked to be forgotten). Idempotent."""
        for callback in callbacks:
            await self._cut(callback, list(PERSONAL_FIELDS), now, erased_by=who)
        return len(callbacks)

    async def _cut(self, callback: dict[str, Any], names: list[str], now: float, erased_by: str | None = None) -> None:
        cid, site, step = callback["callback_id"], callback["site"], callback.get("step_id")
        history = [json.loads(h) for h in await self.redis.lrange(history_key(cid), 0, -1)]
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(callback_key(cid), *names)
            if erased_by is None and "customer_ref" in names:  # the purge anonymised it: no reopening
                pipe.hset(callback_key(cid), "anonymised_at", repr(now))
            ref = callback.get("customer_ref") if "customer_ref" in names else None
            if ref:
                pipe.zrem(customer_callbacks_key(ref), cid)
                if erased_by is not None:  # the whole person goes: their open callback and last closing too
                    pipe.delete(customer_key(ref), customer_callbacks_key(ref))
            if any(entry.get("note") for entry in history):  # a reopening's note may name the customer
                pipe.delete(history_key(cid))
                for entry in history:
                    pipe.rpush(history_key(cid), json.dumps({k: v for k, v in entry.items() if k != "note"}))
            if erased_by is not None:
                if callback.get("status") != "resolved":
                    pipe.hset(callback_key(cid), mapping={"status": "erased", "erased_at": repr(now)})
                    for key in (unclaimed_key(site), DUE, site_step_due(site, step)):
                        pipe.zrem(key, cid)
                pipe.rpush(history_key(cid), json.dumps({"at": now, "action": "erased", "by": erased_by}))
            await pipe.execute()
        if ref and erased_by is None:
            await self._forget_customer_if_done(ref)

    async def _forget_customer_if_done(self, ref: str) -> None:
        """An anonymised case's customer index goes once none of their callbacks is left in it and
        none is open (an open one still needs it: one callback at a time per customer)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcard(customer_callbacks_key(ref))
            pipe.hget(customer_key(ref), "open")
            left, open_one = await pipe.execute()
        if not left and not open_one:
            await self.redis.delete(customer_key(ref), customer_callbacks_key(ref))

    # ------------------------------------------------------------ retention

    async def purge(self, retention: Retention, now: float) -> Counter[str]:
        """Cut what is past its retention (processors.privacy.Retention.cut): how many callbacks lost
        their contact details ("contact") and how many were anonymised ("case"). Idempotent: a case
        cut before has nothing left to cut."""
        counts: Counter[str] = Counter()
        async for chunk in self._callbacks():
            for _, fields in chunk:
                cut = retention.cut(fields, now)
                if cut is not None:
                    kind, names = cut
                    await self._cut(fields, names, now)
                    counts[kind] += 1
        await self.redis.set(PURGED_AT, repr(now))
        return counts


def contact_free(callback: dict[str, Any]) -> bool:
    """No contact detail left (what a test of the purge or an erasure checks)."""
    return not any(callback.get(name) for name in CONTACT_FIELDS)
