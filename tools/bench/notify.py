"""Notifications under an offered load: produce → callback in Redis → e-mail (a real SMTP server) and
signed JSON webhook (a real HTTP receiver), per callback, with the exact count of what arrived.

A quarter of the responses offered (`callback_share`, as in the synthetic pilot) are dissatisfied,
consent and leave a contact, each from a customer of its own, so each is admitted and each admission
is one e-mail per manager of its site and one webhook; the others are satisfied. With
`callback_share=1` every response is a callback: the notifier's worst case.
A fresh worker reads input topics of its own from their start (no other producer adds to its load)
and notifies into the rig of tools/bench/notify_rig.py (a Redis of its own, the receivers in this
process). Its notification settings are the defaults (16 sends at once, retry after 5 s).

Times: produce (when the bench's producer was handed the record), first seen in Redis (polled as in
tools/bench/latency.py), e-mail and webhook as the receivers took them. The receivers run in this
process's threads, beside the producer, on the same cores as the worker: their arrival times include
their own wait for the CPU."""

from __future__ import annotations

import itertools
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console

from config.settings import Settings
from sinks.callback_queue import callback_key, site_stream
from tools.bench.latency import _poll_callbacks
from tools.bench.notify_rig import EMAIL, JSON, Feed, notify_rig
from tools.bench.notify_tally import first_arrivals, tally
from tools.workers import pilot_workers

STALL_SECONDS = 60.0  # no new notification for this long after the last produce: the rest is missing
SETTLE_SECONDS = 3.0  # after the last expected one arrived: time for a copy sent twice to show


def percentiles(values: list[float], name: str) -> dict[str, float | None]:
    ordered = sorted(values)
    return {
        f"{name}_p{q}_s": round(ordered[min(len(ordered) - 1, len(ordered) * q // 100)], 4) if ordered else None
        for q in (50, 95, 99)
    }


def admitted(redis_url: str, sites: tuple[str, ...]) -> dict[str, str]:
    """{callback: site} of every entry in the sites' callback streams."""
    import redis

    client: Any = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return {fields["callback_id"]: site for site in sites for _, fields in client.xrange(site_stream(site))}
    finally:
        client.close()


def notify_at(
    settings: Settings,
    rate: int,
    seconds: float,
    sites: int = 2,
    managers_per_site: int = 1,
    callback_share: float = 0.25,
    notify: bool = True,
) -> dict[str, Any]:
    """`notify=False`: the same run with the worker's notifier off, the baseline of produce → Redis."""
    import redis

    from infra.topics import ensure_topics

    tag = f"nb-{uuid.uuid4().hex[:6]}"
    topic = f"bench-notify-{tag}"
    env = {
        "MIROIR_SURVEY_TOPIC": topic,
        "MIROIR_STAFF_TOPIC": f"{topic}-staff",
        "MIROIR_CALLBACK_REQUEST_TOPIC": f"{topic}-callback-requests",
        "MIROIR_AUTO_OFFSET_RESET": "earliest",
    }
    ensure_topics(settings, list(env.values())[:3])  # the three topics
    total = int(rate * seconds)
    site_names = tuple(f"{tag}-s{k}" for k in range(sites))
    with (
        tempfile.TemporaryDirectory(prefix="miroir-notify-") as tmp,
        notify_rig(site_names, managers_per_site, Path(tmp)) as rig,
    ):
        worker_env = {**env, **rig.env, **({} if notify else {"MIROIR_NOTIFY_ENABLED": "false"})}
        with pilot_workers(settings, Console(quiet=True), env=worker_env):
            client = redis.Redis.from_url(rig.redis_url)
            feed = Feed(settings, topic, site_names, tag, callback_share)
            sent_at: dict[str, float] = {}
            seen_at: dict[str, float] = {}

            def poll() -> None:
                for cb in itertools.islice(feed.produced, len(sent_at), None):  # the new ones, in order
                    sent_at[callback_key(cb)] = feed.produced[cb][1]
                _poll_callbacks(client, sent_at, seen_at)

            try:
                feed.run(total, rate, tick=poll)
                produced_until = time.time()
                expected = rig.expected(feed.callbacks())
                last_count, progress_at = -1, time.monotonic()
                while True:
                    poll()
                    got = first_arrivals(rig.arrivals())
                    if expected.keys() <= got.keys() and rig.pending() == 0:
                        break
                    if not notify and len(seen_at) == len(sent_at):
                        break
                    if len(got) != last_count:
                        last_count, progress_at = len(got), time.monotonic()
                    elif time.monotonic() - progress_at > STALL_SECONDS:
                        break
                    time.sleep(0.2)
                time.sleep(SETTLE_SECONDS)
                poll()
            finally:
                feed.close()
                client.close()
            queued = admitted(rig.redis_url, site_names)
        arrivals = rig.arrivals()
        refused = rig.refused_posts()
    counts = tally(rig.expected(queued), arrivals)
    first = first_arrivals(arrivals)
    by_channel: dict[str, list[float]] = {EMAIL: [], JSON: []}
    for delivery, (callback, channel) in expected.items():
        if delivery in first:
            by_channel[channel].append(first[delivery] - feed.produced[callback][1])
    in_redis = [seen_at[k] - sent_at[k] for k in seen_at]
    last = max(first.values(), default=produced_until)
    span = last - min(first.values(), default=last)
    return {
        "offered_per_s": rate,
        "events": total,
        "callback_share": callback_share,
        "notifier": notify,
        "seconds": seconds,
        "sites": sites,
        "managers_per_site": managers_per_site,
        "callbacks_produced": len(feed.produced),
        "callbacks_admitted": len(queued),
        "callbacks_seen_in_redis": len(seen_at),
        **counts,
        "webhook_posts_refused": refused,
        **percentiles(in_redis, "redis"),
        **percentiles(by_channel[EMAIL], "email"),
        **percentiles(by_channel[JSON], "webhook"),
        "drained_after_produce_s": round(max(0.0, last - produced_until), 2),
        # what the notifier kept up, first notification to last (the bench's ceiling when it fell behind)
        "notifications_per_s": round(len(first) / span, 1) if span > 0 else None,
    }


def notify_ok(result: dict[str, Any]) -> bool:
    """Every admitted callback got exactly one of each of its deliveries, and every response was admitted."""
    return (
        result["callbacks_admitted"] == result["callbacks_produced"]
        and result["missing"] == result["unexpected_ids"] == result["redelivered_same_id"] == 0
        and result["distinct_delivery_ids"] == result["deliveries_expected"]
    )
