"""`miroir bench`: how fast and how lean Miroir is, each figure beside a baseline of the same run.

Every measurement runs on the real local stack. The same N pre-produced Avro
survey events feed the ceiling (a plain aiokafka consumer that only decodes),
the framework floor (a bare faust agent that only decodes) and the pipeline
(a real worker); completion is read from counters, never from sleeps.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from config.settings import Settings
from processors.callbacks import callback_id
from schemas import codec_for
from sinks.callback_queue import callback_key
from tools.demo import pilot_workers
from tools.readout import fetch
from tools.simulate import simulate

SURVEY = codec_for("SurveyResponse")
STALL_SECONDS = 60.0


@dataclass
class BenchOptions:
    events: int = 100_000
    rates: tuple[int, ...] = (200, 1000)
    rate_seconds: float = 20.0
    memory_steps: tuple[int, ...] = (100_000, 500_000, 1_000_000)
    scale_out: bool = True
    french_reviews: Path | None = None
    output: Path = Path("bench/results")


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0"
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(int(memory) / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def survey_events(count: int, seed: int, start: float, rate: float) -> list[bytes]:
    """`count` encoded survey responses of the synthetic pilot (staff stories skipped)."""
    out: list[bytes] = []
    for event in simulate(seed, start, count * 2, rate, staff_share=0.0):
        out.append(SURVEY.encode(event.record))
        if len(out) == count:
            break
    return out


def produce_topic(settings: Settings, topic: str, values: list[bytes], console: Console) -> None:
    from kafka import KafkaProducer

    from infra.topics import ensure_topics

    ensure_topics(settings, [topic])
    producer = KafkaProducer(**settings.kafka.client_config(), acks=1, linger_ms=50, batch_size=256 * 1024)
    started = time.monotonic()
    for i, value in enumerate(values):
        producer.send(topic, value=value, key=str(i).encode())
    producer.flush(timeout=300)
    producer.close()
    console.print(f"bench: produced {len(values)} events to {topic} in {time.monotonic() - started:.1f}s")


# ---------------------------------------------------------------- ceiling and floor


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
        [sys.executable, "-m", "tools.bench_floor"], env=env, capture_output=True, text=True, timeout=1800
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
    values: list[bytes],
    workers: int,
    console: Console,
    on_progress: Callable[[int, list[str]], None] | None = None,
) -> float:
    """Events/s of real workers taking `values` until every one is counted.

    The workers start on a fresh topic and the events are produced once the group is
    stable: a worker joining mid-stream would measure a rebalance, not the pipeline."""
    from infra.topics import ensure_topics

    topic = f"bench-pipeline-{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [topic])
    env = {"MIROIR_SURVEY_TOPIC": topic, "MIROIR_AUTO_OFFSET_RESET": "earliest"}
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
            producer.send(settings.pipeline.survey_topic, value=SURVEY.encode(record))
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
        mirror = fetch(urls[0], "/latency/")
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


# ---------------------------------------------------------------- scorer and memory


def french_texts(path: Path | None, limit: int = 3000) -> list[str]:
    import csv

    if path and path.exists():
        with path.open(encoding="utf-8") as source:
            texts = [
                f"{r['Titre commentaire']}. {r['Commentaire']}"
                for r in csv.DictReader(source)
                if r["Commentaire"].strip()
            ]
        return texts[:limit]
    return [
        e.record["verbatim"]
        for e in simulate(1, 0, limit * 2, 1.0, staff_share=0.0)
        if e.record.get("language") != "en"
    ][:limit]


def scorer(texts: list[str]) -> dict[str, float]:
    from processors.analysis import analyse
    from processors.sentiment import textblob_polarity
    from processors.taxonomy import load_taxonomy

    journey = load_taxonomy().journeys["phone_shop"]
    analyse(texts[0], journey)
    textblob_polarity(texts[0], "fr")
    started = time.perf_counter()
    for text in texts:
        analyse(text, journey)
    miroir = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    for text in texts:
        textblob_polarity(text, "fr")
    baseline = len(texts) / (time.perf_counter() - started)
    return {"miroir_per_s": miroir, "textblob_fr_per_s": baseline, "ratio": miroir / baseline}


def memory(settings: Settings, steps: tuple[int, ...], console: Console) -> dict[str, Any]:
    """Worker RSS after each step of a long stream whose event times span more than the long window."""
    total = steps[-1]
    span = 40 * 86400.0  # past the 30-day window, so buckets expire
    values = survey_events(total, 5, time.time() - span, total / span)
    readings: dict[str, float] = {}

    def sample(seen: int, urls: list[str]) -> None:
        for step in steps:
            if seen >= step and str(step) not in readings:
                readings[str(step)] = fetch(urls[0], "/counters/")["rss_mib"]
                console.print(f"bench: RSS after {step} events: {readings[str(step)]} MiB")

    pipeline_throughput(settings, values, 1, console, on_progress=sample)
    last, before = readings[str(steps[-1])], readings[str(steps[-2])] if len(steps) > 1 else None
    return {"rss_mib": readings, "growth_last_step": round(last / before - 1, 3) if before else None}


# ---------------------------------------------------------------- the run


def run_bench(settings: Settings, options: BenchOptions, console: Console) -> dict[str, Any]:
    from infra.stack import up

    up(settings, echo=lambda _: None)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "events": options.events,
    }
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    values = survey_events(options.events, 1, time.time(), 1000.0)
    produce_topic(settings, topic, values, console)
    console.print("bench: ceiling (aiokafka, decode only)...")
    results["ceiling_per_s"] = ceiling(settings, topic, options.events)
    console.print("bench: framework floor (bare faust agent, decode only)...")
    results["faust_floor_per_s"] = framework_floor(settings, topic, options.events)
    console.print("bench: pipeline (one real worker)...")
    results["pipeline_per_s"] = pipeline_throughput(settings, values, 1, console)
    results["pipeline_vs_ceiling"] = results["pipeline_per_s"] / results["ceiling_per_s"]
    results["pipeline_vs_faust_floor"] = results["pipeline_per_s"] / results["faust_floor_per_s"]
    if options.scale_out:
        console.print("bench: scale-out (two workers, one group)...")
        results["two_workers_per_s"] = pipeline_throughput(settings, values, 2, console)
        results["scale_out_ratio"] = results["two_workers_per_s"] / results["pipeline_per_s"]
    results["latency"] = []
    for rate in options.rates:
        console.print(f"bench: latency at {rate} events/s for {options.rate_seconds:.0f}s...")
        results["latency"].append(latency_at(settings, rate, options.rate_seconds))
    console.print("bench: scorer vs plain TextBlob-fr...")
    results["scorer"] = scorer(french_texts(options.french_reviews))
    if options.memory_steps:
        console.print(f"bench: memory over {options.memory_steps[-1]} events...")
        results["memory"] = memory(settings, options.memory_steps, console)
    return results


def report(results: dict[str, Any], console: Console, output: Path) -> Path:
    table = Table("measure", "figure", "baseline / ratio", title="Miroir bench", title_justify="left")
    table.add_row("ceiling: aiokafka consumer, decode only", f"{results['ceiling_per_s']:,.0f} events/s", "")
    table.add_row("floor: bare faust agent, decode only", f"{results['faust_floor_per_s']:,.0f} events/s", "")
    table.add_row(
        "pipeline: one worker",
        f"{results['pipeline_per_s']:,.0f} events/s",
        f"{results['pipeline_vs_faust_floor']:.0%} of faust floor, {results['pipeline_vs_ceiling']:.1%} of ceiling",
    )
    if "two_workers_per_s" in results:
        table.add_row(
            "pipeline: two workers",
            f"{results['two_workers_per_s']:,.0f} events/s",
            f"×{results['scale_out_ratio']:.2f} vs one",
        )
    for lat in results["latency"]:
        fmt = lambda v: "-" if v is None else f"{v * 1000:.0f}"  # noqa: E731
        table.add_row(
            f"latency at {lat['offered_per_s']}/s, produce → mirror",
            f"p50 {fmt(lat['mirror_p50_s'])} / p95 {fmt(lat['mirror_p95_s'])} / p99 {fmt(lat['mirror_p99_s'])} ms",
            "",
        )
        table.add_row(
            f"latency at {lat['offered_per_s']}/s, produce → callback in Redis",
            f"p50 {fmt(lat['callback_p50_s'])} / p95 {fmt(lat['callback_p95_s'])} / "
            f"p99 {fmt(lat['callback_p99_s'])} ms",
            f"{lat['callbacks']} callbacks",
        )
    s = results["scorer"]
    table.add_row(
        "scorer: Miroir analysis (language, steps, per-step polarity)",
        f"{s['miroir_per_s']:,.0f} verbatims/s",
        f"×{s['ratio']:.1f} vs TextBlob-fr ({s['textblob_fr_per_s']:,.0f}/s)",
    )
    if "memory" in results:
        m = results["memory"]
        table.add_row(
            "worker RSS",
            " → ".join(f"{k}: {v} MiB" for k, v in m["rss_mib"].items()),
            f"last step +{m['growth_last_step']:.1%}" if m["growth_last_step"] is not None else "",
        )
    console.print(table)
    output.mkdir(parents=True, exist_ok=True)
    path = output / f"{results['date'][:19].replace(':', '')}.json"
    path.write_text(json.dumps(results, indent=2))
    console.print(f"bench: results in {path}")
    return path
