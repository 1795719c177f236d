"""The worker's notifier: tells managers of each admitted callback and each escalation (e-mail,
Slack, Teams, signed JSON webhooks), from the callback queue's outbox (sinks/notify/notifier.py).

A task of its own on the worker's event loop, with its own Redis and HTTP clients: every wait is
asynchronous and bounded (Redis's socket timeout, SMTP's and the webhooks' timeouts), so a slow or
dead endpoint holds its delivery and nothing else; the faust agents never wait on it. Redis down:
it waits with backoff (at most 5 s apart) and picks up where it was. `MIROIR_NOTIFY_ENABLED=false`
turns it off (admissions and escalations then wait in the outbox for a notifier).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import Counter

import httpx

from config.settings import settings
from processors.access import AccessError
from processors.notifications import NotifyError
from sinks.accounts import AccountStore
from sinks.callback_queue import REDIS_DOWN, CallbackQueue
from sinks.notify.config import load_config
from sinks.notify.notifier import Notifier
from sinks.notify.store import NotifyStore
from streams.app import app
from streams.metrics import NOTIFY_PENDING, record_notifications

log = logging.getLogger(__name__)
MAX_BACKOFF = 5.0
PENDING_EVERY = 15.0  # seconds between two reads of the pending gauge
SUMMARY_EVERY = 60.0  # seconds between two log lines of counts
GATHER = 0.2  # seconds: the shortest round


def consumer_name() -> str:
    """Stable across restarts of this worker (same host and port): a restarted notifier takes up the
    outbox entries it had not finished at once, before anyone's orphan check."""
    return f"{settings.pipeline.app_id}@{socket.gethostname()}:{settings.pipeline.web_port}"


@app.task
async def notify_managers() -> None:
    if not settings.notify.enabled:
        log.warning(
            "notifications are off (MIROIR_NOTIFY_ENABLED=false): admissions and escalations wait in the outbox"
        )
        return
    try:
        config = load_config(settings)
    except (NotifyError, AccessError) as error:
        log.error("notifications are off: %s", error)
        return
    if not config.anything:
        log.warning("notifications: no SMTP server (MIROIR_NOTIFY_SMTP_HOST) and no chat channel: none will be sent")
    url = settings.redis.dsn
    queue = CallbackQueue.from_url(url, quiet_days=0)  # only its outbox and reads are used here
    accounts, store = AccountStore.from_url(url), NotifyStore.from_url(url)
    http = httpx.AsyncClient(timeout=config.webhook_timeout, follow_redirects=False)
    notifier = Notifier(config, queue, accounts, store, http, consumer_name())
    block_ms = int(settings.notify.poll_interval * 1000)
    backoff, pending_read, summary_at, counts = 0.5, 0.0, time.monotonic(), Counter[tuple[str, str]]()
    try:
        while True:
            try:
                started = time.monotonic()
                tally = await notifier.round(block_ms)
                # A round costs the same for 1 event as for 50: under a steady trickle, gather a few
                # (at most GATHER seconds late) rather than spin on each one, the worker's CPU is shared.
                await asyncio.sleep(max(0.0, GATHER - (time.monotonic() - started)))
                if time.monotonic() - pending_read >= PENDING_EVERY:
                    pending_read = time.monotonic()
                    NOTIFY_PENDING.set(await store.pending())
                backoff = 0.5
            except REDIS_DOWN as error:
                log.warning("notifier: Redis is unreachable (%s); trying again in %.1fs", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            except Exception:  # a bug must not end the task for good: log it and go on
                log.exception("notifier: round failed; trying again in %.1fs", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            record_notifications(tally)
            counts += tally
            if counts and time.monotonic() - summary_at >= SUMMARY_EVERY:
                log.info("notifier: %s", ", ".join(f"{c} {r}: {n}" for (c, r), n in sorted(counts.items())))
                counts, summary_at = Counter(), time.monotonic()
    finally:
        await notifier.close()
        await http.aclose()
        for client in (queue, accounts, store):
            await client.close()
