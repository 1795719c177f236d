"""Latency at an offered rate: produce -> mirror (the worker's own figures), produce -> callback in Redis."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

from rich.console import Console

from config.settings import Settings
from processors.callbacks import callback_id
from sinks.callback_queue import callback_key
from tools.bench.events import SURVEY
from tools.readout import fetch
from tools.simulate import simulate
from tools.workers import pilot_workers


def latency_at(settings: Settings, rate: int, seconds: float) -> dict[str, Any]:
    """Offer `rate` events/s for `seconds`; produce -> mirror and produce -> callback in Redis."""
    import redis
    from kafka import KafkaProducer

    with pilot_workers(settings, Console(quiet=True)) as urls:
        producer = KafkaProducer(**settings.kafka.client_config(), acks=1, linger_ms=2)
        client = redis.Redis.from_url(settings.redis.dsn)
        sent_at: dict[str, float] = {}
        seen_at: dict[str, float] = {}
        total = int(rate * seconds)
        started = time.perf_counter()
        run = uuid.uuid4().hex[:6]
        events = simulate(random.randrange(10**6), time.time(), total, rate, staff_share=0.0)
        for i, event in enumerate(events):
            record = {**event.record, "response_id": f"lat-{run}-{i}", "customer_ref": f"lat-{run}-{i}"}
            producer.send(
                settings.pipeline.topics.survey_responses,
                key=record["response_id"].encode(),
                value=SURVEY.encode(record),
            )
            if record["callback_consent"]:
                sent_at[callback_key(callback_id(record["response_id"]))] = time.time()
            if i % 50 == 0:
                _poll_callbacks(client, sent_at, seen_at)
            delay = started + (i + 1) / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        producer.flush()
        producer.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and fetch(urls[0], "/counters/")["in"] < total:
            _poll_callbacks(client, sent_at, seen_at)
            time.sleep(0.02)
        for _ in range(100):
            _poll_callbacks(client, sent_at, seen_at)
            time.sleep(0.02)
        client.close()
        # The mirror agent computes after the counters count (its own batch): on a cold broker that
        # can be seconds later, so wait for its figures rather than read an empty reservoir.
        deadline = time.monotonic() + 30
        while (mirror := fetch(urls[0], "/latency/"))["p50"] is None and time.monotonic() < deadline:
            time.sleep(0.2)
    callbacks = sorted(seen_at[k] - sent_at[k] for k in seen_at)
    return {
        "offered_per_s": rate,
        "events": total,
        "mirror_p50_s": mirror["p50"],
        "mirror_p95_s": mirror["p95"],
        "mirror_p99_s": mirror["p99"],
        "callbacks": len(callbacks),
        **{
            f"callback_p{q}_s": callbacks[min(len(callbacks) - 1, len(callbacks) * q // 100)] if callbacks else None
            for q in (50, 95, 99)
        },
    }


def _poll_callbacks(client: Any, sent_at: dict[str, float], seen_at: dict[str, float]) -> None:
    pending = [k for k in sent_at if k not in seen_at]
    if not pending:
        return
    now = time.time()
    with client.pipeline(transaction=False) as pipe:
        for key in pending:
            pipe.exists(key)
        for key, exists in zip(pending, pipe.execute(), strict=True):
            if exists:
                seen_at[key] = now
