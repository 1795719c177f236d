"""The managers' callback queue in Redis: one stream per site, a consumer group of its managers.

Layout (all keys under `miroir:`):
- `cb:<id>` hash: the request (contact included: the only place PII lives),
  status open|claimed|resolved, who claimed and resolved it, when;
- `cb:<id>:history` list: every action with who and when;
- `callbacks:<site>` stream: the site's admissions, oldest first (listings read it);
  `escalations:<site>` stream: the site's escalation group;
- `cb:unclaimed:<site>` sorted set: the site's open, unclaimed callbacks by admission order
  (`cb:seq`, a counter; each callback keeps its number in `seq`, so a released or reopened one
  goes back to its place). Claiming the next one and claiming one by id are WATCH/MULTI
  transactions over this set and the callback's hash, so two managers never get the same case,
  a released case can be claimed again, and "next" never gives one claimed by id;
- `cb:customer:<ref>` hash: the customer's open callback and last closing time;
  `cb:customer:<ref>:callbacks` sorted set: every callback of the customer, by creation;
- `cb:resolutions:<site>` hash (resolved, within_sla) and `cb:durations:<site>` list (the last
  DURATIONS_KEPT request-to-resolution times): the site's closed-loop figures, counted in the
  resolve's own transaction, one per resolution, as the mirror counts its outcomes;
- `cb:due` sorted set: unresolved callbacks by due time; `cb:sites` set;
- `cb:events` stream: every change of every callback (site, what, who, when), the newest
  EVENTS_KEPT: what the managers' inbox shows live;
- `cb:outbox` stream, group `notifier`: admissions and escalations still to notify, written in the
  same transaction as the change itself (so none is lost between the two), deleted once delivered.

Personal fields (contact, verbatim, customer ref, notes) are cut here too (`cut`), as
sinks/privacy.py decides for an erasure or the retention purge: an erased case is `erased`, out of
every list; an anonymised one keeps its figures and cannot be reopened.

Long on purpose: this module owns the queue's key layout, so every read and write of those keys
lives here (tests/test_layout.py holds other modules to it).

Every change (admission, claim, release, reassign, resolve, reopen, escalation) is written with
its history entry and its live event in one transaction (`_history`); the rules of who may do
what are processors/inbox.py's, asked inside that transaction.

Admission is idempotent (a callback id is admitted once) and follows
`processors.callbacks.admission`, batch by batch in one optimistic
transaction (WATCH + MULTI), so two workers never admit two callbacks
for one customer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError, WatchError
from redis.exceptions import TimeoutError as RedisTimeoutError

from processors.callbacks import CustomerHistory, admission, epoch, from_epoch, is_overdue, within_sla
from processors.inbox import refusal

log = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)  # what an outage raises: wait, try again
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
SEQ = f"{PREFIX}cb:seq"
BACKFILLED = f"{PREFIX}cb:unclaimed-backfilled"  # set once the callbacks of earlier versions are in
DURATIONS_KEPT = 500  # as the mirror keeps per site and step (streams/callbacks.py)


# Which of a batch's callback requests are about a person who asked to be forgotten (their ids).
Screen = Callable[[list[dict[str, Any]]], Awaitable[set[str]]]


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


def unclaimed_key(site: str) -> str:
    return f"{PREFIX}cb:unclaimed:{site}"


def customer_callbacks_key(customer_ref: str) -> str:
    return f"{PREFIX}cb:customer:{customer_ref}:callbacks"


def resolutions_key(site: str) -> str:
    return f"{PREFIX}cb:resolutions:{site}"


def durations_key(site: str) -> str:
    return f"{PREFIX}cb:durations:{site}"


class CallbackError(ValueError):
    """A manager's action that cannot be done; the message says why, `reason` in a word
    (no_callback, or one of processors.inbox.refusal's)."""

    def __init__(self, message: str, reason: str = "conflict") -> None:
        super().__init__(message)
        self.reason = reason


def _refused(callback: str, action: str, why: str, request: dict[str, str]) -> str:
    """A refusal (processors.inbox.refusal's word) in a sentence for people."""
    said = {
        "resolved": f"{callback} was already resolved by {request.get('resolved_by')}",
        "claimed": f"{callback} is claimed by {request.get('claimed_by')}",
        "not_yours": f"{callback} is claimed by {request.get('claimed_by')}: only they (or the site's escalation "
        "group) may do that",
        "not_claimed": f"{callback} is not claimed",
        "not_resolved": f"{callback} is not resolved: only a resolved callback may be reopened",
        "erased": f"{callback} was erased at the customer's request: nobody may act on it",
        "anonymised": f"{callback} was anonymised after its retention: there is nobody left to call back",
    }
    return f"cannot {action}: {said.get(why, why)}"


def _flatten(request: dict[str, Any]) -> dict[str, str]:
    contact = request.get("contact") or {}
    fields = {k: v for k, v in request.items() if k not in ("contact", "schema_version")}
    fields["created_at"] = epoch(request["created_at"])
    fields["due_at"] = epoch(request["due_at"])
    fields.update({f"contact_{k}": contact.get(k) for k in ("name", "email", "phone")})
    return {k: str(v) for k, v in fields.items() if v is not None}


def _outcome(
    request: dict[str, Any], manager: str, outcome: str, note: str | None, now: float, root_cause: str | None = None
) -> dict[str, Any]:
    """The CallbackOutcome record of `request` resolved at `now`."""
    due = float(request["due_at"])
    return {
        "root_cause": root_cause,
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

    async def admit_batch(
        self, requests: list[dict[str, Any]], now: float, screen: Screen | None = None, guard: tuple[str, ...] = ()
    ) -> list[str]:
        """Admit what may be admitted; return each request's decision ('admit' or why not).

        `screen(requests)` names the callbacks refused as `erased` (sinks/privacy.py), asked inside
        the transaction with `guard` (the erased list's key) WATCHed: an erasure recorded before
        EXEC voids the batch, which is screened again."""
        if not requests:
            return []
        keys = {callback_key(r["callback_id"]) for r in requests} | {customer_key(r["customer_ref"]) for r in requests}
        while True:
            # Numbers for the claim order, taken before the transaction (a retry takes new ones: gaps
            # are harmless); concurrent batches interleave, each in its own order.
            last = int(await self.client.incrby(SEQ, len(requests)))
            try:
                return await self._admit(requests, [*sorted(keys), *guard], now, last - len(requests) + 1, screen)
            except WatchError:
                log.info("callback admission raced with another writer; retrying the batch")

    async def _admit(
        self, requests: list[dict[str, Any]], keys: list[str], now: float, seq: int, screen: Screen | None
    ) -> list[str]:
        async with self.client.pipeline(transaction=True) as pipe:
            await pipe.watch(*keys)
            refused = await screen(requests) if screen is not None else set()
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
            for number, request in enumerate(requests, start=seq):
                callback, customer = request["callback_id"], request["customer_ref"]
                seen = customers[customer]
                history = CustomerHistory(seen.get("open"), float(seen["closed_at"]) if "closed_at" in seen else None)
                decision = (
                    "erased"
                    if callback in refused
                    else admission(callback, known[callback], history, now, self.quiet_days)
                )
                decisions.append(decision)
                if decision == "admit":
                    await self._add(pipe, request, now, number)
                    known[callback] = True
                    customers[customer] = {**seen, "open": callback}
                elif decision != "duplicate":
                    pipe.hset(SUPPRESSED, callback, decision)
            await pipe.execute()
            return decisions

    async def _add(self, pipe: Any, request: dict[str, Any], now: float, seq: int) -> None:
        callback, site = request["callback_id"], request["site"]
        pipe.hset(callback_key(callback), mapping={**_flatten(request), "status": "open", "seq": str(seq)})
        pipe.hset(customer_key(request["customer_ref"]), "open", callback)
        pipe.zadd(customer_callbacks_key(request["customer_ref"]), {callback: epoch(request["created_at"])})
        pipe.zadd(unclaimed_key(site), {callback: seq})
        pipe.zadd(DUE, {callback: epoch(request["due_at"])})
        pipe.zadd(site_step_due(site, request.get("step_id")), {callback: epoch(request["due_at"])})
        pipe.sadd(SITE_STEPS, site_step(site, request.get("step_id")))
        pipe.sadd(SITES, site)
        pipe.xadd(site_stream(site), {"callback_id": callback})
        await self._history(pipe, callback, site, "created", "pipeline", now, priority=request["priority"])

    # ------------------------------------------------------------ managers

    async def claim(self, site: str, manager: str, now: float) -> dict[str, Any] | None:
        """Give `manager` the site's oldest unclaimed callback, or None. The WATCH on the site's
        unclaimed set and on the case voids the transaction when another claim (next or by id), a
        release or a resolve changed them meanwhile: then it tries again with the new first one. A
        first one that is not open any more leaves the set."""
        key = unclaimed_key(site)
        while True:
            try:
                async with self.client.pipeline(transaction=True) as pipe:
                    await pipe.watch(key)
                    first = await pipe.zrange(key, 0, 0)
                    if not first:
                        return None
                    callback = first[0]
                    await pipe.watch(callback_key(callback))
                    request = await pipe.hgetall(callback_key(callback))
                    pipe.multi()
                    if request.get("status") != "open" or request.get("claimed_by"):
                        pipe.zrem(key, callback)  # not open any more (a backfill raced a claim): not "next"
                        await pipe.execute()
                        continue
                    self._claimed(pipe, callback, site, manager, now)
                    await self._history(pipe, callback, site, "claimed", manager, now)
                    await pipe.execute()
                return await self.get(callback)
            except WatchError:
                continue

    @staticmethod
    def _claimed(pipe: Any, callback: str, site: str, manager: str, now: float) -> None:
        pipe.zrem(unclaimed_key(site), callback)
        pipe.hset(callback_key(callback), mapping={"status": "claimed", "claimed_by": manager, "claimed_at": str(now)})

    async def _change(
        self, callback: str, action: str, who: str, elevated: bool, write: Any, watch: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """One manager's action on one callback, atomically: read it (WATCHed, with `watch`), ask
        processors.inbox.refusal, then `write(pipe, request, watched)` in MULTI; retried when another
        change came between. Returns the callback as it was before."""
        while True:
            try:
                async with self.client.pipeline(transaction=True) as pipe:
                    await pipe.watch(callback_key(callback), *watch)
                    request = await pipe.hgetall(callback_key(callback))
                    if not request:
                        raise CallbackError(f"no callback {callback!r}", "no_callback")
                    why = refusal(action, request, who, elevated)
                    if why:
                        raise CallbackError(_refused(callback, action, why, request), why)
                    watched = [await pipe.hgetall(key) for key in watch]
                    pipe.multi()
                    await write(pipe, request, watched)
                    await pipe.execute()
                return dict(request)
            except WatchError:
                continue

    async def claim_id(self, callback: str, manager: str, now: float) -> dict[str, Any]:
        """Give `manager` this callback (from the inbox's case page); claiming one's own is a no-op."""

        async def write(pipe: Any, request: dict[str, str], _: Any) -> None:
            if request.get("claimed_by") != manager:
                self._claimed(pipe, callback, request["site"], manager, now)
                await self._history(pipe, callback, request["site"], "claimed", manager, now)

        await self._change(callback, "claim", manager, False, write)
        return await self.get(callback)

    async def release(self, callback: str, who: str, now: float, elevated: bool = False) -> dict[str, Any]:
        """Give a claimed callback back to the site: open again, at its place in the claim order."""

        async def write(pipe: Any, request: dict[str, str], _: Any) -> None:
            self._unclaimed(pipe, callback, request)
            await self._history(pipe, callback, request["site"], "released", who, now, was=request["claimed_by"])

        await self._change(callback, "release", who, elevated, write)
        return await self.get(callback)

    @staticmethod
    def _unclaimed(pipe: Any, callback: str, request: dict[str, str]) -> None:
        pipe.hset(callback_key(callback), "status", "open")
        pipe.hdel(callback_key(callback), "claimed_by", "claimed_at")
        pipe.zadd(unclaimed_key(request["site"]), {callback: float(request.get("seq") or 0)})

    async def reassign(self, callback: str, to: str, who: str, now: float, elevated: bool = False) -> dict[str, Any]:
        """Give an unresolved callback to `to` (the caller checked they see its site)."""

        async def write(pipe: Any, request: dict[str, str], _: Any) -> None:
            self._claimed(pipe, callback, request["site"], to, now)
            await self._history(
                pipe, callback, request["site"], "reassigned", who, now, to=to, was=request.get("claimed_by")
            )

        await self._change(callback, "reassign", who, elevated, write)
        return await self.get(callback)

    async def resolve(
        self,
        callback: str,
        outcome: str,
        note: str | None,
        manager: str,
        now: float,
        root_cause: str | None = None,
        elevated: bool = False,
    ) -> dict[str, Any]:
        """Close a callback; returns the CallbackOutcome record to publish. The same manager resolving
        it again with the same outcome gets the same record back (nothing changes): so whoever could
        not publish it (Kafka away) publishes it by trying again."""
        request = await self.get(callback)
        if request["status"] == "resolved":
            if (request.get("resolved_by"), request.get("outcome")) == (manager, outcome):
                return _outcome(
                    request,
                    manager,
                    outcome,
                    request.get("note") or None,
                    float(request["resolved_at"]),
                    request.get("root_cause") or None,
                )
            raise CallbackError(f"{callback} was already resolved by {request.get('resolved_by')}", "resolved")

        async def write(pipe: Any, request: dict[str, str], _: Any) -> None:
            site = request["site"]
            closing = {"resolved_by": manager, "resolved_at": str(now), "outcome": outcome, "note": note or ""}
            pipe.hset(callback_key(callback), mapping={"status": "resolved", **closing})
            pipe.hdel(callback_key(callback), "root_cause")
            if root_cause:
                pipe.hset(callback_key(callback), "root_cause", root_cause)
            pipe.hdel(customer_key(request["customer_ref"]), "open")
            pipe.hset(customer_key(request["customer_ref"]), "closed_at", str(now))
            pipe.zrem(DUE, callback)
            pipe.zrem(site_step_due(site, request.get("step_id")), callback)
            pipe.zrem(unclaimed_key(site), callback)
            if request.get("entry_id"):  # claimed through the consumer group of earlier versions
                pipe.xack(site_stream(site), GROUP, request["entry_id"])
            # The site's loop figures, one resolution each (a reopened case resolved again counts again).
            pipe.hincrby(resolutions_key(site), "resolved", 1)
            pipe.hincrby(resolutions_key(site), "within_sla", int(within_sla(now, float(request["due_at"]))))
            pipe.lpush(durations_key(site), str(now - float(request["created_at"])))
            pipe.ltrim(durations_key(site), 0, DURATIONS_KEPT - 1)
            await self._history(pipe, callback, site, "resolved", manager, now, outcome=outcome, root_cause=root_cause)

        try:
            before = await self._change(callback, "resolve", manager, elevated, write)
        except CallbackError as error:
            if error.reason != "resolved":
                raise
            return await self.resolve(callback, outcome, note, manager, now, root_cause, elevated)  # raced: as above
        return _outcome(before, manager, outcome, note, now, root_cause)

    async def reopen(self, callback: str, who: str, now: float, note: str | None = None) -> dict[str, Any]:
        """A resolved callback comes back, open and unclaimed, with its original due time; publishes
        nothing (processors/inbox.py: its next resolution is a new outcome). Refused while the
        customer has another open callback (one at a time)."""
        request = await self.get(callback)
        customer = customer_key(request.get("customer_ref") or "")  # anonymised: refused below

        async def write(pipe: Any, request: dict[str, str], watched: list[dict[str, str]]) -> None:
            if watched[0].get("open") not in (None, callback):
                raise CallbackError(
                    f"the customer of {callback} has another open callback, {watched[0]['open']}", "customer_has_open"
                )
            site, due = request["site"], float(request["due_at"])
            self._unclaimed(pipe, callback, request)
            pipe.hdel(callback_key(callback), "resolved_by", "resolved_at", "outcome", "note", "root_cause")
            pipe.hincrby(callback_key(callback), "reopened", 1)
            pipe.hset(customer, "open", callback)
            pipe.zadd(DUE, {callback: due})
            pipe.zadd(site_step_due(site, request.get("step_id")), {callback: due})
            await self._history(pipe, callback, site, "reopened", who, now, note=note)

        await self._change(callback, "reopen", who, False, write, watch=(customer,))
        return await self.get(callback)

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

    async def customer_callbacks(self, customer_ref: str, now: float, limit: int = 20) -> list[dict[str, Any]]:
        """The customer's callbacks the queue knows, the newest `limit`, as `listing` (no contact)."""
        found = await self.client.zrevrange(customer_callbacks_key(customer_ref), 0, limit - 1)
        return await self._rows(list(found), now)

    async def backfill_unclaimed(self, chunk: int = 1000) -> int:
        """Put the open, unclaimed callbacks admitted before the unclaimed sets existed (claims then read
        the site stream's consumer group) into their site's set, ahead of every newer one, oldest
        first; once per Redis (BACKFILLED marks it), idempotent if two processes race. How many."""
        if await self.client.exists(BACKFILLED):
            return 0
        added, cursor = 0, 0
        while batch := await self.client.zrange(DUE, cursor, cursor + chunk - 1):
            cursor += chunk
            async with self.client.pipeline(transaction=False) as pipe:
                for callback in batch:
                    pipe.hmget(callback_key(callback), "status", "site", "created_at", "seq")
                found = await pipe.execute()
            async with self.client.pipeline(transaction=False) as pipe:
                for callback, (status, site, created, seq) in zip(batch, found, strict=True):
                    if status == "open" and site and seq is None:
                        place = float(created or 0) - 1e10  # before any seq the counter gave (1, 2, ...)
                        pipe.zadd(unclaimed_key(site), {callback: place}, nx=True)
                        pipe.hsetnx(callback_key(callback), "seq", repr(place))
                        added += 1
                await pipe.execute()
        await self.client.set(BACKFILLED, "1")
        return added

    async def site_figures(self, site: str, now: float) -> dict[str, Any]:
        """The site's open and overdue callbacks now, and its resolutions: how many, how many within
        SLA, the last DURATIONS_KEPT request-to-resolution times (seconds). Bounded reads."""
        keys = [f"{DUE}:{k}" for k in await self.client.smembers(SITE_STEPS) if k.startswith(f"{site}|")]
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(resolutions_key(site))
            pipe.lrange(durations_key(site), 0, DURATIONS_KEPT - 1)
            for key in keys:
                pipe.zcard(key)
                pipe.zcount(key, "-inf", f"({now}")
            tally, durations, *counts = await pipe.execute()
        return {
            "open": sum(counts[0::2]),
            "overdue": sum(counts[1::2]),
            "resolved": int(tally.get("resolved", 0)),
            "within_sla": int(tally.get("within_sla", 0)),
            "durations": [float(d) for d in durations],
        }

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
        (a restarted notifier picks its work up again), then new ones, waiting up to `block_ms` for
        them (0: not at all)."""
        try:
            await self.client.xgroup_create(OUTBOX, NOTIFIER, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        for start, block in (("0", None), (">", block_ms or None)):  # BLOCK 0 would wait for ever
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

    # ------------------------------------------------------------ personal data

    async def scan(self, chunk: int = 500) -> AsyncIterator[list[dict[str, str]]]:
        """Every callback the queue holds, `chunk` at a time (SCAN: no lock, no index to keep)."""
        keys: list[str] = []
        async for key in self.client.scan_iter(match=callback_key("*"), count=chunk, _type="HASH"):
            keys.append(key)
            if len(keys) >= chunk:
                yield await self._hashes(keys)
                keys = []
        if keys:
            yield await self._hashes(keys)

    async def _hashes(self, keys: list[str]) -> list[dict[str, str]]:
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(key)
            found = await pipe.execute()
        # A customer's index (`cb:customer:<ref>`) matches the pattern too: only callbacks have an id.
        return [fields for fields in found if fields.get("callback_id")]

    async def cut(
        self, callback: str, decide: Callable[[dict[str, str]], list[str]], who: str, now: float, erase: bool
    ) -> bool:
        """Remove the fields `decide(fields)` names, judged on the callback as it is inside the
        transaction (a case reopened meanwhile is judged reopened); notes leave its history with
        "note". `erase`: the person asked to be forgotten: the case is `erased` (refused to every
        action), out of every list, their customer index gone, the change in the live events.
        Else a cut customer ref makes the case anonymised (it cannot be reopened). Whether it cut."""
        key, past = callback_key(callback), history_key(callback)
        while True:
            try:
                async with self.client.pipeline(transaction=True) as pipe:
                    await pipe.watch(key, past)
                    fields = await pipe.hgetall(key)
                    names = decide(fields) if fields else []
                    if not names:
                        return False
                    history = [json.loads(entry) for entry in await pipe.lrange(past, 0, -1)]
                    site, step, ref = fields["site"], fields.get("step_id"), fields.get("customer_ref")
                    pipe.multi()
                    pipe.hdel(key, *names)
                    if "note" in names and any(entry.get("note") for entry in history):
                        pipe.delete(past)  # a reopening's note may name the customer
                        for entry in history:
                            pipe.rpush(past, json.dumps({k: v for k, v in entry.items() if k != "note"}))
                    if ref and "customer_ref" in names:
                        pipe.zrem(customer_callbacks_key(ref), callback)
                    if erase:
                        pipe.hset(key, mapping={"status": "erased", "erased_at": repr(now)})
                        for ordered in (unclaimed_key(site), DUE, site_step_due(site, step)):
                            pipe.zrem(ordered, callback)
                        if ref:
                            pipe.delete(customer_key(ref), customer_callbacks_key(ref))
                        await self._history(pipe, callback, site, "erased", who, now)
                    elif "customer_ref" in names:
                        pipe.hset(key, "anonymised_at", repr(now))
                    await pipe.execute()
            except WatchError:
                continue
            if ref and "customer_ref" in names and not erase:
                await self._forget_customer_if_done(ref)
            return True

    async def _forget_customer_if_done(self, ref: str) -> None:
        """An anonymised case's customer index goes once none of their callbacks is left in it and
        none is open (an open one still needs it: one callback at a time per customer)."""
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zcard(customer_callbacks_key(ref))
            pipe.hget(customer_key(ref), "open")
            left, open_one = await pipe.execute()
        if not left and not open_one:
            await self.client.delete(customer_key(ref), customer_callbacks_key(ref))
