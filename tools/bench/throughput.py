"""Events/s: the ceiling (aiokafka, decode only), the framework floor (a bare faust agent) and the pipeline
(real workers), all on the same pre-produced events."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

from rich.console import Console

from config.settings import Settings
from tools.bench.events import SURVEY, Keyed, produce_topic
from tools.readout import fetch
from tools.workers import pilot_workers

STALL_SECONDS = 60.0


async def _ceiling(settings: Settings, topic: str, count: int) -> float:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        group_id=None,
        max_partition_fetch_bytes=4 << 20,
    )
    await consumer.start()
    try:
        # produce_topic created the topic with the settings' partition count.
        partitions = [TopicPartition(topic, p) for p in range(settings.kafka.topic_partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen, started = 0, 0.0
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            if batches and not started:
                started = time.perf_counter()
            for records in batches.values():
                for record in records:
                    SURVEY.decode(record.value)
                seen += sum(len(r) for r in batches.values())
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


def ceiling(settings: Settings, topic: str, count: int) -> float:
    return asyncio.run(_ceiling(settings, topic, count))


def framework_floor(settings: Settings, topic: str, count: int) -> float:
    env = {
        **os.environ,
        "FLOOR_TOPIC": topic,
        "FLOOR_COUNT": str(count),
        "FLOOR_APP": f"miroir-floor-{uuid.uuid4().hex[:8]}",
        "FLOOR_DATADIR": f"/tmp/miroir-floor-{os.getpid()}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "tools.bench.floor"], env=env, capture_output=True, text=True, timeout=1800
    )
    # faust routes print() through its logger, so the figure may be on either stream.
    found = re.search(r"FLOOR ([\d.]+)", result.stdout + result.stderr)
    if found:
        return float(found.group(1))
    raise RuntimeError(f"the bare faust agent did not finish:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


# ---------------------------------------------------------------- the pipeline


def _counted(urls: list[str]) -> int:
    return sum(int(fetch(url, "/counters/")["in"]) for url in urls)


def pipeline_throughput(
    settings: Settings,
    values: list[Keyed],
    workers: int,
    console: Console,
    on_progress: Callable[[int, list[str]], None] | None = None,
) -> float:
    """Events/s of real workers taking `values` until every one is counted.

    The workers start on a fresh topic and the events are produced once the group is
    stable: a worker joining mid-stream would measure a rebalance, not the pipeline."""
    from infra.topics import ensure_topics

    topic = f"bench-pipeline-{uuid.uuid4().hex[:8]}"
    # Its own callback-request topic too: with `earliest` the callback sink's fresh group would
    # otherwise first read every callback request this Kafka ever held, on the same core.
    env = {
        "MIROIR_SURVEY_TOPIC": topic,
        "MIROIR_CALLBACK_REQUEST_TOPIC": f"{topic}-callback-requests",
        "MIROIR_AUTO_OFFSET_RESET": "earliest",
    }
    ensure_topics(settings, [topic, env["MIROIR_CALLBACK_REQUEST_TOPIC"]])
    with pilot_workers(settings, Console(quiet=True), count=workers, env=env) as urls:
        produce_topic(settings, topic, values, console)
        started = None
        seen, progress_at = 0, time.monotonic()
        while seen < len(values):
            now_seen = _counted(urls)
            if now_seen != seen:
                seen, progress_at = now_seen, time.monotonic()
            if seen and started is None:
                started = time.perf_counter()
            if on_progress:
                on_progress(seen, urls)
            if time.monotonic() - progress_at > STALL_SECONDS:
                raise RuntimeError(f"the pipeline stalled at {seen} of {len(values)} events")
            time.sleep(0.2)
        assert started is not None
        return len(values) / (time.perf_counter() - started)
