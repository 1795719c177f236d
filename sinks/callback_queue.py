"""The managers' callback queue in Redis: one stream per site, a consumer group of its managers.

Layout (all keys under `miroir:`):
- `cb:<id>` hash: the request (contact included: the only place PII lives),
  status open|claimed|resolved, who claimed and resolved it, when;
- `cb:<id>:history` list: every action with who and when;
- `callbacks:<site>` stream, group `managers`: claiming reads the oldest
  unclaimed entry; `escalations:<site>` stream: the site's escalation group;
- `cb:customer:<ref>` hash: the customer's open callback and last closing time;
- `cb:due` sorted set: unresolved callbacks by due time; `cb:sites` set;
- `cb:events` stream: every change of every callback (site, what, who, when), the newest
  EVENTS_KEPT: what the managers' inbox shows live;
- `cb:outbox` stream, group `notifier`: admissions and escalations still to notify, written in the
  same transaction as the change itself (so none is lost between the two), deleted once delivered.

Long on purpose: this module owns the queue's key layout, so every read and write of those keys
lives here (tests/test_layout.py holds other modules to it).

Admission is idempotent (a callback id is admitted once) and follows
`processors.callbacks.admission`, batch by batch in one optimistic
transaction (WATCH + MULTI), so two workers never admit two callbacks
for one customer.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError, WatchError

from processors.callbacks import CustomerHistory, admission, epoch, from_epoch, is_overdue, within_sla

log = logging.getLogger(__name__)

GROUP = "managers"
PREFIX = "miroir:"
DUE = f"{PREFIX}cb:due"
SITES = f"{PREFIX}cb:sites"
SUPPRESSED = f"{PREFIX}cb:suppressed"
SITE_STEPS = f"{PREFIX}cb:site_steps"  # every "site|step" with a due-time set of its own
EVENTS = f"{PREFIX}cb:events"
EVENTS_KEPT = 10_000  # a live page needs the last moments; a reconnecting one reloads its lists
OUTBOX = f"{PREFIX}cb:outbox"
NOTIFIER = "notifier"
NOTIFIED = ("created", "escalated")  # the changes people are told about


def site_step(site: str, step: str | None) -> str:
    return f"{site}|{step or '-'}"


def site_step_due(site: str, step: str | None) -> str:
    """Unresolved callbacks of one site and step by due time: open and overdue counts in O(1)."""
    return f"{DUE}:{site_step(site, step)}"


def callback_key(callback_id: str) -> str:
    return f"{PREFIX}cb:{callback_id}"


def history_key(callback_id: str) -> str:
    return f"{PREFIX}cb:{callback_id}:history"


def customer_key(customer_ref: str) -> str:
    return f"{PREFIX}cb:customer:{customer_ref}"


def site_stream(site: str) -> str:
    return f"{PREFIX}callbacks:{site}"


def escalation_stream(site: str) -> str:
    return f"{PREFIX}escalations:{site}"


class CallbackError(ValueError):
    """A manager's action that cannot be done; the message says why."""


def _flatten(request: dict[str, Any]) -> dict[str, str]:
    contact = request.get("contact") or {}
    fields = {k: v for k, v in request.items() if k not in ("contact", "schema_version")}
    fields["created_at"] = epoch(request["created_at"])
    fields["due_at"] = epoch(request["due_at"])
    fields.update({f"contact_{k}": contact.get(k) for k in ("name", "email", "phone")})
    return {k: str(v) for k, v in fields.items() if v is not None}


def _outcome(request: dict[str, Any], manager: str, outcome: str, note: str | None, now: float) -> dict[str, Any]:
    """The CallbackOutcome record of `request` resolved at `now`."""
    due = float(request["due_at"])
    return {
        "callback_id": request["callback_id"],
        "response_id": request["response_id"],
        "site": request["site"],
        "journey_id": request["journey_id"],
        "step_id": request.get("step_id"),
        "manager": manager,
        "outcome": outcome,
        "note": note,
        "created_at": from_epoch(float(request["created_at"])),
        "claimed_at": from_epoch(float(request["claimed_at"])) if request.get("claimed_at") else None,
        "resolved_at": from_epoch(now),
        "due_at": from_epoch(due),
        "within_sla": within_sla(now, due),
    }


class CallbackQueue:
    def __init__(self, client: aioredis.Redis, quiet_days: float) -> None:
        # Any: redis-py's hints cannot express decode_responses=True (str, not bytes).
        self.client: Any = client
        self.quiet_days = quiet_days

    @classmethod
    def from_url(cls, url: str, quiet_days: float) -> CallbackQueue:
        return cls(
            aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5),
            quiet_days,
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def _history(
        self, pipe: Any, callback_id: str, site: str, action: str, who: str, now: float, **extra: Any
    ) -> None:
        """Write the change to the callback's history, the live events and (admission, escalation)
        the notifier's outbox, in the caller's transaction."""
        pipe.rpush(history_key(callback_id), json.dumps({"at": now, "action": action, "by": who, **extra}))
        event = {"callback_id": callback_id, "site": site, "action": action, "by": who, "at": str(now)}
        pipe.xadd(EVENTS, event, maxlen=EVENTS_KEPT, approximate=True)
        if action in NOTIFIED:
            pipe.xadd(OUTBOX, event)

    # ------------------------------------------------------------ admission

    async def admit_batch(self, requests: list[dict[str, Any]], now: float) -> list[str]:
        """Admit what may be admitted; return each request's decision ('admit' or why not)."""
        if not requests:
            return []
        keys = {callback_key(r["callback_id"]) for r in requests} | {customer_key(r["customer_ref"]) for r in requests}
        while True:
            try:
                return await self._admit(requests, sorted(keys), now)
            except WatchError:
                log.info("callback admission raced with another writer; retrying the batch")

    async def _admit(self, requests: list[dict[str, Any]], keys: list[str], now: float) -> list[str]:
        async with self.client.pipeline(transaction=True) as pipe:
            await pipe.watch(*keys)
            # Read everything in one round trip; the WATCH above still voids the
            # transaction if any of these keys changes before EXEC.
            async with self.client.pipeline(transaction=False) as reads:
                for request in requests:
                    reads.exists(callback_key(request["callback_id"]))
                for request in requests:
                    reads.hgetall(customer_key(request["customer_ref"]))
                found = await reads.execute()
            known = {r["callback_id"]: bool(e) for r, e in zip(requests, found[: len(requests)], strict=True)}
            customers = {r["customer_ref"]: c for r, c in zip(requests, found[len(requests) :], strict=True)}
            pipe.multi()
            decisions = []
            for request in requests:
                callback, customer = request["callback_id"], request["customer_ref"]
                seen = customers[customer]
                history = CustomerHistory(seen.get("open"), float(seen["closed_at"]) if "closed_at" in seen else None)
                decision = admission(callback, known[callback], history, now, self.quiet_days)
                decisions.append(decision)
                if decision == "admit":
                    await self._add(pipe, request, now)
                    known[callback] = True
                    customers[customer] = {**seen, "open": callback}
                elif decision != "duplicate":
                    pipe.hset(SUPPRESSED, callback, decision)
            await pipe.execute()
            return decisions

    async def _add(self, pipe: Any, request: dict[str, Any], now: float) -> None:
        callback, site = request["callback_id"], request["site"]
        pipe.hset(callback_key(callback), mapping={**_flatten(request), "status": "open"})
        pipe.hset(customer_key(request["customer_ref"]), "open", callback)
        pipe.zadd(DUE, {callback: epoch(request["due_at"])})
        pipe.zadd(site_step_due(site, request.get("step_id")), {callback: epoch(request["due_at"])})
        pipe.sadd(SITE_STEPS, site_step(site, request.get("step_id")))
        pipe.sadd(SITES, site)
        pipe.xadd(site_stream(site), {"callback_id": callback})
        await self._history(pipe, callback, site, "created", "pipeline", now, priority=request["priority"])

    async def ensure_group(self, site: str) -> None:
        try:
            await self.client.xgroup_create(site_stream(site), GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    # ------------------------------------------------------------ managers

    async def claim(self, site: str, manager: str, now: float) -> dict[str, Any] | None:
        """Give `manager` the oldest unclaimed callback of `site`, or None."""
        await self.ensure_group(site)
        entries = await self.client.xreadgroup(GROUP, manager, {site_stream(site): ">"}, count=1)
        if not entries:
            return None
        entry_id, fields = entries[0][1][0]
        callback = fields["callback_id"]
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(
                callback_key(callback),
                mapping={
                    "status": "claimed",
                    "claimed_by": manager,
                    "claimed_at": str(now),
                    "entry_id": entry_id,
                },
            )
            await self._history(pipe, callback, site, "claimed", manager, now)
            await pipe.execute()
        return await self.get(callback)

    async def resolve(self, callback: str, outcome: str, note: str | None, manager: str, now: float) -> dict[str, Any]:
        """Close a callback; returns the CallbackOutcome record to publish. The same manager resolving
        it again with the same outcome gets the same record back (nothing changes): so whoever could
        not publish it (Kafka away) publishes it by trying again."""
        request = await self.get(callback)
        if request["status"] == "resolved":
            if (request.get("resolved_by"), request.get("outcome")) == (manager, outcome):
                return _outcome(request, manager, outcome, request.get("note") or None, float(request["resolved_at"]))
            raise CallbackError(f"{callback} was already resolved by {request.get('resolved_by')}")
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(
                callback_key(callback),
                mapping={
                    "status": "resolved",
                    "resolved_by": manager,
                    "resolved_at": str(now),
                    "outcome": outcome,
                    "note": note or "",
                },
            )
            pipe.hdel(customer_key(request["customer_ref"]), "open")
            pipe.hset(customer_key(request["customer_ref"]), "closed_at", str(now))
            pipe.zrem(DUE, callback)
            pipe.zrem(site_step_due(request["site"], request.get("step_id")), callback)
            if request.get("entry_id"):
                pipe.xack(site_stream(request["site"]), GROUP, request["entry_id"])
            await self._history(pipe, callback, request["site"], "resolved", manager, now, outcome=outcome)
            await pipe.execute()
        return _outcome(request, manager, outcome, note, now)

    async def get(self, callback: str) -> dict[str, Any]:
        fields = await self.client.hgetall(callback_key(callback))
        if not fields:
            raise CallbackError(f"no callback {callback!r}")
        history = [json.loads(h) for h in await self.client.lrange(history_key(callback), 0, -1)]
        return {**fields, "history": history}

    async def listing(self, site: str, now: float, limit: int | None = None) -> list[dict[str, Any]]:
        """The site's callbacks (the newest `limit` when given), oldest first, with `overdue` and
        `escalated` flags (no contact details)."""
        if limit is None:
            entries = await self.client.xrange(site_stream(site))
        else:
            entries = list(reversed(await self.client.xrevrange(site_stream(site), count=limit)))
        return await self._rows([fields["callback_id"] for _, fields in entries], now)

    async def size(self, site: str) -> int:
        """How many callbacks the site ever had."""
        return int(await self.client.xlen(site_stream(site)))

    async def unresolved(self, site: str, now: float, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """How many of the site's callbacks are unresolved, and the `limit` due first (as `listing`)."""
        keys = [f"{DUE}:{k}" for k in await self.client.smembers(SITE_STEPS) if k.startswith(f"{site}|")]
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zcard(key)
                pipe.zrange(key, 0, limit - 1, withscores=True)
            found = await pipe.execute()
        due_first = sorted((due, c) for scored in found[1::2] for c, due in scored)[:limit]
        return sum(found[0::2]), await self._rows([c for _, c in due_first], now)

    async def _rows(self, callbacks: list[str], now: float) -> list[dict[str, Any]]:
        async with self.client.pipeline(transaction=False) as pipe:  # one round trip, not one per callback
            for callback in callbacks:
                pipe.hgetall(callback_key(callback))
            found = await pipe.execute()
        out = []
        for request in found:
            if not request:
                continue
            public = {k: v for k, v in request.items() if not k.startswith("contact_")}
            public["overdue"] = is_overdue(float(request["due_at"]), request["status"] == "resolved", now)
            public["escalated"] = "escalated_at" in request
            out.append(public)
        return out

    async def escalate_overdue(self, now: float) -> list[str]:
        """Escalate every unresolved callback past its due time, once each; returns their ids."""
        escalated = []
        for callback in await self.client.zrangebyscore(DUE, "-inf", now):
            if not await self.client.hsetnx(callback_key(callback), "escalated_at", str(now)):
                continue  # escalated before
            request = await self.client.hgetall(callback_key(callback))
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.xadd(
                    escalation_stream(request["site"]),
                    {
                        "callback_id": callback,
                        "claimed_by": request.get("claimed_by", ""),
                        "due_at": request["due_at"],
                    },
                )
                site = request["site"]
                await self._history(
                    pipe, callback, site, "escalated", "pipeline", now, to=f"escalation group of {site}"
                )
                await pipe.execute()
            escalated.append(callback)
        return escalated

    async def sites(self) -> set[str]:
        """Every site that ever had a callback."""
        return set(await self.client.smembers(SITES))

    async def sites_of(self, callbacks: list[str]) -> list[str]:
        return [await self.client.hget(callback_key(c), "site") for c in callbacks]

    async def escalations(self, site: str) -> list[dict[str, str]]:
        return [fields for _, fields in await self.client.xrange(escalation_stream(site))]

    async def open_counts(self, now: float) -> dict[str, dict[str, int]]:
        """Per 'site|step': open and overdue callbacks."""
        keys = sorted(await self.client.smembers(SITE_STEPS))
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zcard(f"{DUE}:{key}")
                pipe.zcount(f"{DUE}:{key}", "-inf", f"({now}")
            found = await pipe.execute()
        return {key: {"open": found[2 * i], "overdue": found[2 * i + 1]} for i, key in enumerate(keys)}

    # ------------------------------------------------------------ what changed, for people

    async def last_event(self) -> str:
        """The id of the newest change ('0-0' when none): where a live page starts from."""
        newest = await self.client.xrevrange(EVENTS, count=1)
        return str(newest[0][0]) if newest else "0-0"

    async def events_after(self, after: str, block_ms: int, count: int = 100) -> list[tuple[str, dict[str, str]]]:
        """The changes after `after` (an event id), waiting up to `block_ms` for one."""
        found = await self.client.xread({EVENTS: after}, count=count, block=block_ms)
        return [(entry_id, fields) for _, entries in found for entry_id, fields in entries]

    async def outbox(self, consumer: str, count: int, block_ms: int) -> list[tuple[str, dict[str, str]]]:
        """Admissions and escalations to notify: first what `consumer` took before and did not finish
        (a restarted notifier picks its work up again), then new ones."""
        try:
            await self.client.xgroup_create(OUTBOX, NOTIFIER, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        for start, block in (("0", None), (">", block_ms)):
            found = await self.client.xreadgroup(NOTIFIER, consumer, {OUTBOX: start}, count=count, block=block)
            entries = [(entry_id, fields) for _, batch in found for entry_id, fields in batch if fields]
            if entries:
                return entries
        return []

    async def outbox_orphans(self, consumer: str, idle_ms: int, count: int) -> list[tuple[str, dict[str, str]]]:
        """Outbox entries another notifier took and left unfinished for `idle_ms` (it died): now `consumer`'s."""
        _, claimed, *_ = await self.client.xautoclaim(OUTBOX, NOTIFIER, consumer, idle_ms, "0", count=count)
        return [(entry_id, fields) for entry_id, fields in claimed if fields]

    async def outbox_done(self, entry_ids: list[str]) -> None:
        """Delivered (or given up with a reason logged): out of the outbox."""
        if entry_ids:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.xack(OUTBOX, NOTIFIER, *entry_ids)
                pipe.xdel(OUTBOX, *entry_ids)
                await pipe.execute()
