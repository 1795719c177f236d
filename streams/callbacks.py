"""Callback requests into the managers' Redis queue; escalations; closed-loop metrics.

The sink reads the callback requests with a Kafka consumer of its own (group
`<app id>-callbacks`), not through faust's: while Redis is down it retries
with backoff and holds its batch, and only its own fetching waits. Through
faust's shared consumer a full stream buffer would stall every agent, and the
mirror with them. It commits a batch once Redis has taken it, so nothing is
lost; admission is idempotent, so a batch delivered again admits nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import CommitFailedError

from config.settings import settings
from processors.callbacks import add_outcome, loop_metrics
from processors.config import pipeline_config
from schemas import AvroCodec, SerializationError, codec_for
from sinks.callback_queue import REDIS_DOWN, CallbackQueue
from sinks.grafana import escalation_annotation
from sinks.privacy import ERASED
from streams.annotations import grafana_annotations
from streams.app import app
from streams.metrics import CALLBACK_ESCALATIONS, record_callback_figures
from streams.privacy import erased_callbacks
from streams.tables import site_step_to_loop
from streams.topics import callback_outcome_topic, callback_request_topic

log = logging.getLogger(__name__)
MAX_BACKOFF = 5.0  # a retry against a Redis that is down costs little; callbacks wait less
QUEUE_READ_TIMEOUT = 2.0
DURATIONS_KEPT = 500


@cache
def callback_queue() -> CallbackQueue:
    return CallbackQueue.from_url(settings.redis.dsn, pipeline_config().taxonomy.callbacks.quiet_days)


@app.task
async def queue_callbacks() -> None:
    consumer = AIOKafkaConsumer(
        callback_request_topic.get_topic_name(),
        **settings.kafka.aiokafka_config(),
        group_id=settings.pipeline.topics.callback_sink_group,
        enable_auto_commit=False,
        auto_offset_reset=settings.pipeline.auto_offset_reset,
        # The sink may wait out a long Redis outage between two fetches without leaving its group.
        max_poll_interval_ms=24 * 3600 * 1000,
    )
    await consumer.start()
    codec = codec_for("CallbackRequest")
    try:
        while True:
            batches = await consumer.getmany(
                timeout_ms=int(settings.pipeline.batch_within * 1000), max_records=settings.pipeline.batch_size
            )
            records = [record for tp_records in batches.values() for record in tp_records]
            if not records:
                continue
            await admit_until_accepted(decode_requests(codec, records))
            try:
                await consumer.commit()
            except CommitFailedError as error:  # the group moved on: the batch comes again, admitted once
                log.warning("callback batch not committed (%s); it will be delivered again", error)
    finally:
        await consumer.stop()


def decode_requests(codec: AvroCodec, records: list[Any]) -> list[dict[str, Any]]:
    requests = []
    for record in records:
        try:
            requests.append(codec.decode(record.value))
        except SerializationError as error:  # written by this pipeline: a bug, not user input
            log.error("skipping an unreadable callback request at %s:%s: %s", record.partition, record.offset, error)
    return requests


async def admit_until_accepted(requests: list[dict[str, Any]]) -> None:
    """Admit the batch (refusing those about an erased person), waiting out a Redis outage."""
    backoff = 0.5
    while True:
        started = time.monotonic()
        try:
            decisions = await callback_queue().admit_batch(requests, time.time(), erased_callbacks, (ERASED,))
        except REDIS_DOWN as error:
            log.warning("Redis refused %d callbacks (%s); retrying in %.1fs", len(requests), error, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        log.info(
            "callbacks: %d in %.1f ms: %s",
            len(requests),
            1000 * (time.monotonic() - started),
            {d: decisions.count(d) for d in set(decisions)},
        )
        return


@app.timer(interval=settings.pipeline.escalation_interval)
async def escalate_overdue_callbacks() -> None:
    try:
        now = time.time()
        escalated = await callback_queue().escalate_overdue(now)
        for callback, site in zip(escalated, await callback_queue().sites_of(escalated), strict=True):
            CALLBACK_ESCALATIONS.labels(site).inc()
            if (sink := grafana_annotations()) is not None:
                sink.offer(escalation_annotation(callback, site, now))
    except REDIS_DOWN as error:
        log.warning("cannot check overdue callbacks, Redis is down (%s)", error)
        return
    if escalated:
        log.warning("escalated %d overdue callbacks: %s", len(escalated), ", ".join(escalated))
    figures = await callback_figures()
    record_callback_figures(figures["by_site_step"])


_queue_down_since: float | None = None


async def callback_figures() -> dict[str, Any]:
    """Per 'site|step': open and overdue (from the Redis queue), resolved within SLA and median
    time to callback (from the outcomes). Redis being down is said, with since when, not fatal:
    the wallboard keeps its mirror live and marks only the queue's figures stale."""
    global _queue_down_since
    figures: dict[str, Any] = {
        key: loop_metrics(loop.get("durations", []), loop.get("within_sla", 0), loop.get("resolved", 0))
        for key, loop in list(site_step_to_loop.items())
    }
    try:
        # A hung Redis must not hold the wallboards' read-out for the client's full timeout.
        queue_counts = await asyncio.wait_for(callback_queue().open_counts(time.time()), QUEUE_READ_TIMEOUT)
    except (TimeoutError, *REDIS_DOWN) as error:
        _queue_down_since = _queue_down_since or time.time()
        return {
            "queue": "unavailable",
            "error": str(error) or type(error).__name__,
            "stale_since": datetime.fromtimestamp(_queue_down_since, tz=UTC).isoformat(),
            "by_site_step": figures,
        }
    _queue_down_since = None
    for key, counts in queue_counts.items():
        figures[key] = {**figures.get(key, loop_metrics([], 0, 0)), **counts}
    return {"queue": "ok", "by_site_step": figures}


@app.agent(callback_outcome_topic)
async def measure_callback_outcomes(stream):
    codec = codec_for("CallbackOutcome")
    async for event in stream.events():
        message = event.message
        try:
            outcome = codec.decode(event.value)
        except SerializationError as error:
            log.error("skipping an unreadable callback outcome at %s:%s: %s", message.tp, message.offset, error)
            continue
        key = f"{outcome['site']}|{outcome['step_id'] or '-'}"
        source = f"{message.topic}:{message.partition}"
        site_step_to_loop[key] = add_outcome(site_step_to_loop[key], outcome, source, message.offset, DURATIONS_KEPT)
