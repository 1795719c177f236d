"""What the notification bench and the notification chaos scenarios share: a worker's surroundings
(a Redis of its own, a real SMTP server, a real JSON webhook receiver, a channels file, a manager per
site), a feed of dissatisfied survey responses, and the exact tally of what arrived, by delivery id.

    with notify_rig(sites, managers_per_site=1, directory=tmp) as rig:
        env = {**rig.env, ...}           # MIROIR_REDIS_URL, MIROIR_NOTIFY_SMTP_*, the channels file
        feed = Feed(settings, topic, rig.sites, tag)
        ...
        tally(rig.expected(feed.admitted_ids()), rig.arrivals(), faults_at=[...])  # notify_tally.py

The Redis is a redis-server of the rig's own on a free port: the outbox's consumer group is global
to a Redis, so a worker of anyone else's on the stack's Redis would take (and send) these entries.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.settings import Settings
from processors.access import User
from processors.callbacks import callback_id
from processors.notifications import EMAIL, delivery_id
from sinks.accounts import AccountStore
from sinks.notify.store import DUE, delivery_key
from tools.bench.events import SURVEY
from tools.receivers import SmtpReceiver, WebhookReceiver, free_port, wait_until

CHANNEL = "bench-crm"  # the one JSON webhook, covering every site of the rig
HOOK_PATH = "/crm"
JSON = "json"
CREATED = "created"


@contextmanager
def private_redis(directory: Path) -> Iterator[str]:
    """A redis-server of our own on a free port, no persistence; its URL."""
    import redis

    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        if not wait_until(lambda: _pings(client), timeout=10):
            raise RuntimeError(f"redis-server on port {port} did not answer")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


def _pings(client: Any) -> bool:
    import redis

    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@dataclass
class NotifyRig:
    redis_url: str
    smtp: SmtpReceiver
    hooks: WebhookReceiver
    sites: tuple[str, ...]
    managers: dict[str, tuple[str, ...]]  # site -> its managers' names
    env: dict[str, str]  # what a worker needs to notify into this rig
    _mails: list[tuple[str, str, float]] = field(default_factory=list)
    _posts: list[tuple[str, int, float]] = field(default_factory=list)

    def expected(self, callbacks: dict[str, str]) -> dict[str, tuple[str, str]]:
        """delivery id -> (callback, channel) for admitted callbacks {callback: site}: one e-mail
        per manager of the site, one post to the JSON webhook."""
        out = {}
        for callback, site in callbacks.items():
            for manager in self.managers[site]:
                out[delivery_id(callback, CREATED, EMAIL, manager)] = (callback, EMAIL)
            out[delivery_id(callback, CREATED, JSON, CHANNEL)] = (callback, JSON)
        return out

    def arrivals(self) -> list[tuple[str, str, float]]:
        """(delivery id, channel, arrival time) of every e-mail taken and every post answered 200.

        Incremental: reading a parsed e-mail's header costs ~25 µs, and a bench that read every one
        again on each look would hold the GIL the receivers' threads need."""
        mails = self.smtp.received()
        self._mails += [(str(m.message["X-Miroir-Delivery"]), EMAIL, m.arrived) for m in mails[len(self._mails) :]]
        posts = self.hooks.received(HOOK_PATH, status=None)  # in arrival order, refused ones too
        new = posts[len(self._posts) :]
        self._posts += [(header(p.headers, "X-Miroir-Delivery"), p.status, p.arrived) for p in new]
        return self._mails + [(delivery, JSON, at) for delivery, status, at in self._posts if status == 200]

    def pending(self, after: float = float("-inf")) -> int:
        """Deliveries not sent yet (due, retrying or leased); `after` (time.time()): only those whose
        next attempt is later, i.e. leased by a notifier that took them or waiting for a retry."""
        import redis

        client = redis.Redis.from_url(self.redis_url)
        try:
            return int(client.zcount(DUE, f"({after}" if after > float("-inf") else "-inf", "+inf"))
        finally:
            client.close()

    def failed_sends(self) -> dict[str, int]:
        """delivery id -> the sends of it the notifier recorded as failed (its attempts before the
        one that was marked sent; a killed notifier records nothing)."""
        import redis

        client = redis.Redis.from_url(self.redis_url, decode_responses=True)
        try:
            keys = list(client.scan_iter(match=delivery_key("*"), count=1000))
            with client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.hmget(key, "id", "attempts", "state")
                rows = pipe.execute()
        finally:
            client.close()
        return {i: int(n) - (s == "sent") for i, n, s in rows if i and n and int(n) - (s == "sent") > 0}

    def refused_posts(self) -> int:
        return len([p for p in self.hooks.received(HOOK_PATH, status=None) if p.status != 200])


def header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")


@contextmanager
def notify_rig(sites: tuple[str, ...], managers_per_site: int, directory: Path) -> Iterator[NotifyRig]:
    secret = secrets.token_hex(16)
    channels = directory / "channels.yaml"
    channels.write_text(
        "channels:\n"
        f"  - {{name: {CHANNEL}, kind: json, sites: [{', '.join(sites)}], "
        "url_env: MIROIR_BENCH_HOOK_URL, secret_env: MIROIR_BENCH_HOOK_SECRET}\n"
    )
    with private_redis(directory) as url, SmtpReceiver() as smtp, WebhookReceiver() as hooks:
        managers = {site: tuple(f"m{k}.{site}" for k in range(managers_per_site)) for site in sites}
        asyncio.run(_add_managers(url, managers))
        env = {
            "MIROIR_REDIS_URL": url,
            "MIROIR_NOTIFY_SMTP_HOST": smtp.host,
            "MIROIR_NOTIFY_SMTP_PORT": str(smtp.port),
            "MIROIR_NOTIFY_SMTP_SECURITY": "none",
            "MIROIR_NOTIFY_CHANNELS_FILE": str(channels),
            "MIROIR_BENCH_HOOK_URL": hooks.url(HOOK_PATH),
            "MIROIR_BENCH_HOOK_SECRET": secret,
        }
        yield NotifyRig(url, smtp, hooks, sites, managers, env)


async def _add_managers(url: str, managers: dict[str, tuple[str, ...]]) -> None:
    accounts = AccountStore.from_url(url)
    try:
        for site, names in managers.items():
            for name in names:
                user = User(name, f"{name}@example.org", "manager", frozenset({site}))
                await accounts.add_user(user, secrets.token_urlsafe(16), time.time())
    finally:
        await accounts.close()


def response(tag: str, i: int, site: str, callback: bool = True) -> dict[str, Any]:
    """A dissatisfied survey response that consents to a callback, from a customer of its own (or,
    `callback=False`, a satisfied one that asks for none)."""
    if not callback:
        return {
            **response(tag, i, site),
            "score": 9,
            "callback_consent": False,
            "contact": None,
            "verbatim": "Parfait.",
        }
    return {
        "response_id": f"{tag}-r{i}",
        "customer_ref": f"{tag}-c{i}",
        "journey_id": "home_delivery",
        "step_id": "delivery",
        "score": 2,
        "score_scale": "NPS",
        "site": site,
        "callback_consent": True,
        "verbatim": "Livreur en retard de quatre heures, très déçu.",
        "event_time": datetime.now(UTC),
        "contact": {"name": None, "email": f"client{i}@example.org", "phone": "+33611111111"},
    }


@dataclass
class Feed:
    """Sends such responses to `topic` (round robin over the sites), keyed by response id; remembers
    when each callback's response was produced. `callback_share` of them ask for a callback, evenly
    spread (the rest are satisfied). `send` may be called from several threads."""

    settings: Settings
    topic: str
    sites: tuple[str, ...]
    tag: str
    callback_share: float = 1.0
    events: int = 0  # responses produced, callbacks or not
    produced: dict[str, tuple[str, float]] = field(default_factory=dict)  # callback -> (site, produced at)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _producer: Any = None

    def __post_init__(self) -> None:
        from kafka import KafkaProducer

        self._producer = KafkaProducer(**self.settings.kafka.client_config(), acks=1, linger_ms=2)

    def send(self, count: int = 1) -> dict[str, str]:
        """Produce `count` responses now; their {callback: site}."""
        sent = {}
        for _ in range(count):
            with self._lock:
                i, self.events = self.events, self.events + 1
                asks = int((i + 1) * self.callback_share) > int(i * self.callback_share)
                record = response(self.tag, i, self.sites[i % len(self.sites)], asks)
                self._producer.send(self.topic, key=record["response_id"].encode(), value=SURVEY.encode(record))
                if asks:
                    callback = callback_id(record["response_id"])
                    self.produced[callback] = (record["site"], time.time())
                    sent[callback] = record["site"]
        return sent

    def run(self, count: int, rate: float, tick: Callable[[], None] | None = None, every: float = 0.05) -> None:
        """`count` responses at `rate`/s (open loop: each leaves at its time); `tick()` every `every` seconds."""
        started = ticked = time.perf_counter()
        for n in range(count):
            self.send()
            if tick is not None and time.perf_counter() - ticked >= every:
                tick()
                ticked = time.perf_counter()
            delay = started + (n + 1) / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        self._producer.flush()

    def close(self) -> None:
        self._producer.flush()
        self._producer.close()

    def callbacks(self, before: float = float("inf")) -> dict[str, str]:
        """{callback: site} of the responses produced before `before` (time.time())."""
        with self._lock:
            return {cb: site for cb, (site, at) in self.produced.items() if at < before}
