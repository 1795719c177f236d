"""The notifier: outbox entries (admissions, escalations) into deliveries, and due deliveries out.

One round (`Notifier.round`): take the outbox entries this notifier left unfinished, then new ones
(and, now and then, those a dead notifier left: `orphan_idle`); expand each into its deliveries
(processors/notifications.py decides who, on which channel, when), created in Redis where none
exists yet (sinks/notify/store.py), and only then acknowledge the entries; then send what is due,
`concurrency` at a time, each marked sent the moment its endpoint took it.

Exactly once, and its two windows: an entry is acknowledged only once its deliveries exist, and
expanding again creates nothing, so an event is neither lost nor doubled by a crash; a delivery is
held by one notifier at a time (a lease), and marked sent right after the endpoint accepted it. A
notifier killed between the endpoint's acceptance and that mark (its answer read, one Redis round
trip) leaves the delivery to be sent again after the lease; a send that timed out (or lost its
connection) after the endpoint took it, but before its answer came back, is retried like any
failure (recorded in the delivery's attempts). Either copy carries the same delivery id
(X-Miroir-Delivery, the e-mail's Message-ID) for the receiver to drop.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from typing import Any

import httpx

from processors.access import User
from processors.notifications import (
    EMAIL,
    Preferences,
    chat_channels,
    delivery_id,
    email_due,
    recipients,
)
from processors.notify_messages import (
    case_link,
    case_of,
    digest_text,
    email_text,
    json_body,
    json_headers,
    json_payload,
    slack_payload,
    teams_payload,
)
from sinks.accounts import AccountStore
from sinks.callback_queue import CallbackError, CallbackQueue
from sinks.notify.config import NotifyConfig
from sinks.notify.senders import SendFailed, SmtpSessions, email_message, post_webhook
from sinks.notify.store import Delivery, NotifyStore

log = logging.getLogger(__name__)
Tally = Counter[tuple[str, str]]  # (channel or "events", result) -> how many
HELD = 60.0  # seconds: a delivery first due this long after its event was held (quiet hours, digest)


class Notifier:
    def __init__(
        self,
        config: NotifyConfig,
        queue: CallbackQueue,
        accounts: AccountStore,
        store: NotifyStore,
        http: httpx.AsyncClient,
        consumer: str,
    ) -> None:
        self.config, self.queue, self.accounts, self.store, self.http = config, queue, accounts, store, http
        self.consumer = consumer
        self.channels = {c.name: c for c in config.channels}
        self.smtp = SmtpSessions(config.smtp) if config.smtp else None
        self._orphans_checked = 0.0
        self._more_due = False  # the last round took a full batch: do not wait on the outbox

    async def close(self) -> None:
        if self.smtp is not None:
            await self.smtp.close()

    async def round(self, block_ms: int, now: float | None = None) -> Tally:
        """Take news from the outbox (waiting up to `block_ms`), expand it, send what is due."""
        tally: Tally = Counter()
        entries = await self.queue.outbox(self.consumer, self.config.batch, 0 if self._more_due else block_ms)
        if time.monotonic() - self._orphans_checked >= self.config.orphan_idle / 2:
            self._orphans_checked = time.monotonic()
            idle_ms = int(self.config.orphan_idle * 1000)
            entries += await self.queue.outbox_orphans(self.consumer, idle_ms, self.config.batch)
        tally += await self.expand(entries, time.time() if now is None else now)
        tally += await self.deliver_due(time.time() if now is None else now)
        return tally

    # ------------------------------------------------------------ outbox entries into deliveries

    async def expand(self, entries: list[tuple[str, dict[str, str]]], now: float) -> Tally:
        tally: Tally = Counter()
        if not entries:
            return tally
        deliveries: list[Delivery] = []
        people = await self.accounts.recipients() if self.config.smtp else []
        for _, event in entries:
            if not self.config.anything:
                tally["events", "nothing_to_send"] += 1
                continue
            found = await self._deliveries(event, people, now)
            tally["events", "expanded" if found else ("missing" if found is None else "nobody")] += 1
            deliveries += found or []
        created = await self.store.add(deliveries)
        await self.queue.outbox_done([entry_id for entry_id, _ in entries])
        for d in deliveries:
            tally[d.channel, "queued"] += 1
        if created != len(deliveries):
            log.info(
                "notifier: %d of %d deliveries existed already (an event taken again)",
                len(deliveries) - created,
                len(deliveries),
            )
        return tally

    async def _deliveries(
        self, event: dict[str, str], people: list[tuple[User, Preferences]], now: float
    ) -> list[Delivery] | None:
        callback, site, action = event.get("callback_id", ""), event.get("site", ""), event.get("action", "")
        try:
            found = await self.queue.get(callback)
        except CallbackError:
            log.warning("notifier: callback %s of an outbox entry is not in the queue; nothing sent", callback)
            return None
        if found.get("status") == "erased":  # the customer asked to be forgotten: nobody is to call
            return []
        case = case_of(callback, found)
        public = {k: str(v) for k, v in vars(case).items() if v is not None}
        at = float(event.get("at") or now)
        out = []
        prefs = {user.name: p for user, p in people}
        for user in recipients(site, action, [u for u, _ in people], self.config.hierarchy):
            if not prefs[user.name].email:
                continue
            due, digested = email_due(now, action, prefs[user.name], self.config.zone, self.config.digest_hour)
            out.append(self._delivery(callback, action, EMAIL, user.name, at, public, due, digested))
        for channel in chat_channels(site, action, self.config.channels, self.config.hierarchy):
            out.append(self._delivery(callback, action, channel.kind, channel.name, at, public, now, False))
        return out

    @staticmethod
    def _delivery(
        callback: str, action: str, channel: str, target: str, at: float, case: dict[str, str], due: float, digest: bool
    ) -> Delivery:
        return Delivery(
            delivery_id(callback, action, channel, target), callback, action, channel, target, at, case, digest, 0, due
        )

    # ------------------------------------------------------------ sending what is due

    async def deliver_due(self, now: float) -> Tally:
        """Send what is due, `concurrency` at a time. A send starts only while it can end
        (send_deadline) and be marked sent (mark_margin) within the lease: past that, another notifier
        may take the delivery again. What could not start in time is given back, due again at once."""
        tally: Tally = Counter()
        leased_until = now + self.config.lease
        taken_at = time.monotonic()
        taken = await self.store.take(now, self.config.lease, self.config.batch)
        self._more_due = len(taken) == self.config.batch
        due = await self._still_news(taken, now, tally)
        if not due:
            return tally
        latest_start = self.config.lease - self.config.send_deadline - self.config.mark_margin
        late: list[Delivery] = []
        people = (
            {u.name: (u, p) for u, p in await self.accounts.recipients()}
            if any(d.channel == EMAIL for d in due)
            else {}
        )
        groups: dict[str, list[Delivery]] = {}
        for d in due:  # a user's digest entries go out together, in one e-mail
            groups.setdefault(f"digest:{d.target}" if d.channel == EMAIL and d.digest else d.id, []).append(d)
        limit = asyncio.Semaphore(self.config.concurrency)

        async def one(group: list[Delivery]) -> None:
            async with limit:
                if time.monotonic() - taken_at > latest_start:
                    late.extend(group)
                    return
                channel = group[0].channel
                try:
                    await asyncio.wait_for(self._send(group, people), self.config.send_deadline)
                except TimeoutError:
                    for d in group:
                        tally[channel, await self._failed(d, SendFailed("timeout", True), time.time())] += 1
                except SendFailed as error:
                    for d in group:
                        tally[channel, await self._failed(d, error, time.time())] += 1
                except Exception as error:  # a bug must not stop the other sends; retried like a failure
                    log.exception("notifier: unexpected error sending %s", group[0].id)
                    for d in group:
                        tally[channel, await self._failed(d, SendFailed(type(error).__name__, True), time.time())] += 1
                else:
                    for d in group:
                        await self.store.sent(d, time.time(), self.config.sent_kept)
                    tally[channel, "sent"] += len(group)

        await asyncio.gather(*(one(group) for group in groups.values()))
        if late:
            await self.store.release(late, leased_until, now)
            tally["deliveries", "deferred"] += len(late)
        return tally

    async def _still_news(self, due: list[Delivery], now: float, tally: Tally) -> list[Delivery]:
        """Drop the notices held (quiet hours, digest) whose case was resolved meanwhile: a manager
        woken at 8 for a case a colleague closed at 22 would open it for nothing."""
        kept = []
        for d in due:
            if d.channel == EMAIL and (d.digest or d.first_due > d.at + HELD):
                try:
                    status = (await self.queue.get(d.callback_id))["status"]
                except CallbackError:
                    status = "gone"
                if status in ("resolved", "erased", "gone"):
                    await self.store.skipped(d, f"case {status} while the notice was held", now, self.config.sent_kept)
                    tally[d.channel, "skipped"] += 1
                    continue
            kept.append(d)
        return kept

    async def _failed(self, d: Delivery, error: SendFailed, now: float) -> str:
        if not error.retry or self.config.backoff.gives_up(d.first_due, now):
            why = error.reason if not error.retry else f"gave up after {d.attempts + 1} attempts: {error.reason}"
            log.error("notifier: %s %s of %s to %s failed: %s", d.channel, d.action, d.callback_id, d.target, why)
            await self.store.failed(d, why, now, self.config.sent_kept)
            return "failed"
        delay = self.config.backoff.delay(d.attempts + 1, random.random())
        log.warning("notifier: %s to %s failed (%s); retry in %.0fs", d.channel, d.target, error.reason, delay)
        await self.store.retry(d, error.reason, now + delay)
        return "retried"

    async def _send(self, group: list[Delivery], people: dict[str, tuple[User, Preferences]]) -> None:
        first = group[0]
        link = case_link(self.config.link_base, first.callback_id)
        case = case_of(first.callback_id, first.case)
        if first.channel == EMAIL:
            return await self._email(group, people)
        channel = self.channels.get(first.target)
        if channel is None:
            raise SendFailed(f"no chat channel named {first.target!r} any more", retry=False)
        payload: dict[str, Any]
        headers: dict[str, str] = {}
        if channel.kind == "slack":
            payload = slack_payload(case, first.action, link, channel.language, self.config.zone)
        elif channel.kind == "teams":
            payload = teams_payload(case, first.action, link, channel.language, self.config.zone)
        else:
            payload = json_payload(case, first.action, link, first.id, first.at)
        body = json_body(payload)
        if channel.kind == "json" and channel.secret is not None:
            headers = json_headers(channel.secret.get_secret_value(), int(time.time()), body, first.id, first.action)
        else:
            headers = {"X-Miroir-Delivery": first.id}
        await post_webhook(self.http, channel.url.get_secret_value(), body, headers)

    async def _email(self, group: list[Delivery], people: dict[str, tuple[User, Preferences]]) -> None:
        if self.config.smtp is None:
            raise SendFailed("e-mail is off (no MIROIR_NOTIFY_SMTP_HOST)", retry=False)
        first = group[0]
        user, prefs = people.get(first.target, (None, None))
        if user is None or prefs is None or user.disabled or not prefs.email:
            raise SendFailed("recipient gone, disabled or e-mail off", retry=False)
        if first.digest:
            cases = [(case_of(d.callback_id, d.case), case_link(self.config.link_base, d.callback_id)) for d in group]
            text = digest_text(cases, prefs.language, self.config.zone)
        else:
            link = case_link(self.config.link_base, first.callback_id)
            text = email_text(
                case_of(first.callback_id, first.case), first.action, link, prefs.language, self.config.zone
            )
        assert self.smtp is not None  # with config.smtp
        await self.smtp.send(email_message(self.config.smtp.sender, user.email, text, first.id))
