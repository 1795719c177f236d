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

The callbacks stay the callback queue's (sinks/callback_queue.py reads and writes their keys, `cut`
and `scan`); this module says whose they are and what to cut: a case keeps what the loop figures
need (site, step, score, status, times, outcome) and loses what says who the customer is.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from typing import Any

import redis.asyncio as aioredis

from config.settings import PrivacySettings
from processors.privacy import CONTACT_FIELDS, PERSONAL_FIELDS, Retention, subjects_of
from sinks.callback_queue import PREFIX, CallbackQueue, history_key
from sinks.redis_pool import blocking_client

NAMESPACE = f"{PREFIX}privacy:"
SECRET = f"{NAMESPACE}secret"
ERASED = f"{NAMESPACE}erased"
ERASURES = f"{NAMESPACE}erasures"
PURGED_AT = f"{NAMESPACE}purged-at"
POOL_SIZE = 50
SCAN_CHUNK = 500  # callbacks read per round trip while scanning
MAX_ROUNDS = 5  # searches with the identifiers found (a person with more is an odd data set)


class PrivacyStore:
    def __init__(self, client: aioredis.Redis) -> None:
        # Any: redis-py's hints cannot express decode_responses=True (str, not bytes).
        self.redis: Any = client
        self.queue = CallbackQueue(client, quiet_days=0)  # its cuts and scans only (it owns those keys)
        self._secret: bytes | None = None

    @classmethod
    def from_url(cls, url: str) -> PrivacyStore:
        return cls(blocking_client(url, POOL_SIZE))  # the intake asks it once per POST, in bursts

    async def close(self) -> None:
        await self.redis.aclose()

    async def secret(self, privacy: PrivacySettings) -> bytes:
        """The subject hashes' key: MIROIR_PRIVACY_SECRET, else this Redis's (made once, kept)."""
        if self._secret is None:
            if privacy.secret:
                self._secret = privacy.secret.get_secret_value().encode()
            else:
                await self.redis.set(SECRET, secrets.token_hex(32), nx=True)
                self._secret = str(await self.redis.get(SECRET)).encode()
        return self._secret

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

    async def refuse(self, keys: set[str], now: float) -> None:
        """From now on the intake, the pipeline and the callback sink refuse what is about `keys`:
        an erasure says so first, before it looks for what to cut, so nothing slips in meanwhile."""
        if keys:
            await self.redis.hset(ERASED, mapping=dict.fromkeys(keys, repr(now)))

    async def record(self, action: str, keys: set[str], who: str, source: str, now: float, **found: Any) -> str:
        """An erasure (its keys refused from now on; the workers forget their evidence when they
        read it here) or an access request, in the audit stream."""
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

    async def callbacks_of(self, keys: set[str], secret: bytes) -> tuple[set[str], list[dict[str, Any]]]:
        """Every callback about the person `keys` name, with its history, and all their keys.

        What is found brings the person's other identifiers (their ref, found by their e-mail), and
        the search goes on with them until it finds nobody new. A scan of every callback rather than
        an index: an answer with no customer ref is found by its contact, and no second copy of
        anyone's contact is kept for it."""
        found: dict[str, dict[str, str]] = {}
        for _ in range(MAX_ROUNDS):
            known = set(keys)
            async for chunk in self.queue.scan(SCAN_CHUNK):
                for fields in chunk:
                    if (subjects := subjects_of(fields, secret)) & keys:
                        found[fields["callback_id"]] = fields
                        keys = keys | subjects
            if keys == known:
                break
        callbacks = []
        for callback, fields in found.items():
            history = await self.redis.lrange(history_key(callback), 0, -1)
            callbacks.append({**fields, "history": [json.loads(h) for h in history]})
        return keys, callbacks

    async def erase(self, callbacks: list[dict[str, Any]], who: str, now: float) -> int:
        """Cut everything personal from these callbacks and mark them erased. Idempotent."""
        cut = 0
        for callback in callbacks:
            cut += await self.queue.cut(callback["callback_id"], _personal, who, now, erase=True)
        return cut

    # ------------------------------------------------------------ retention

    async def purge(self, retention: Retention, now: float) -> Counter[str]:
        """Cut what is past its retention (processors.privacy.Retention.cut): how many callbacks lost
        their contact details ("contact") and how many were anonymised ("case"). Idempotent: a case
        cut before has nothing left to cut."""
        counts: Counter[str] = Counter()
        async for chunk in self.queue.scan(SCAN_CHUNK):
            for fields in chunk:
                if (cut := retention.cut(fields, now)) is None:
                    continue

                def decide(current: dict[str, str]) -> list[str]:  # as the case is now, not as scanned
                    again = retention.cut(current, now)
                    return again[1] if again is not None else []

                if await self.queue.cut(fields["callback_id"], decide, "purge", now, erase=False):
                    counts[cut[0]] += 1
        await self.redis.set(PURGED_AT, repr(now))
        return counts


def _personal(fields: dict[str, str]) -> list[str]:
    return [name for name in PERSONAL_FIELDS if name in fields]


def contact_free(callback: dict[str, Any]) -> bool:
    """No contact detail left (what a test of the purge or an erasure checks)."""
    return not any(callback.get(name) for name in CONTACT_FIELDS)
