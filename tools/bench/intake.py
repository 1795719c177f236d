"""The intake under an offered load: single and batched POSTs at a fixed rate, their latency, and
whether every 202 is in Kafka exactly once; beside a plain Kafka producer's rate in the same run.

The load is open-loop: each request leaves at its scheduled time whether or not the earlier ones
were answered, and its latency counts from that time, so an intake that falls behind shows it in
its percentiles instead of slowing the sender down (coordinated omission)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console

from config.settings import Settings
from services.intake import PATHS
from tools.bench.events import SURVEY
from tools.http_sender import as_json
from tools.intake import ids_in_topic, spawn_intake, with_tokens
from tools.simulate import survey_responses

CONNECTIONS = 128  # the sender's connection pool: requests beyond it queue in the client, timed
ANSWER_TIMEOUT = 30.0


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies) or [0.0]

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}


async def offer(url: str, token: str, bodies: list[list[dict[str, Any]]], rate: float) -> dict[str, Any]:
    """POST `bodies` at `rate` requests/s; latencies, statuses and the ids Kafka confirmed (202).

    aiohttp, not httpx, sends them: at a few hundred requests/s httpx's async pool spent more CPU
    than the intake did, and measured itself."""
    import aiohttp

    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    accepted: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT)
    async with aiohttp.ClientSession(url, headers=headers, connector=connector, timeout=timeout) as session:

        async def post(body: list[dict[str, Any]], due: float) -> None:
            try:
                async with session.post(PATHS["survey"], json=body if len(body) > 1 else body[0]) as response:
                    answer = await response.json(content_type=None)
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                statuses[0] += 1
                return
            latencies.append(time.perf_counter() - due)
            statuses[status] += 1
            if status == 202 and len(body) == 1:
                accepted.append(body[0]["response_id"])
            elif status in (202, 207):
                accepted.extend(body[i["index"]]["response_id"] for i in answer["items"] if i["status"] == 202)

        started = time.perf_counter()
        tasks = []
        for i, body in enumerate(bodies):
            due = started + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(post(body, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return {
        "requests": len(bodies),
        "records": sum(len(b) for b in bodies),
        "offered_per_s": rate,
        "answered_per_s": round(sum(statuses.values()) / elapsed, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "accepted_ids": accepted,
        **_percentiles(latencies),
    }


async def _plain_producer(settings: Settings, topic: str, records: list[dict[str, Any]]) -> float:
    """Records/s of an aiokafka producer configured as the intake's (acks=all, idempotent, linger 2 ms)."""
    from aiokafka import AIOKafkaProducer

    encoded = [SURVEY.encode(r) for r in records]
    producer = AIOKafkaProducer(**settings.kafka.aiokafka_config(), acks="all", enable_idempotence=True, linger_ms=2)
    await producer.start()
    try:
        started = time.perf_counter()
        sent = [
            await producer.send(topic, value, key=r["response_id"].encode())
            for r, value in zip(records, encoded, strict=True)
        ]
        await asyncio.gather(*sent)
        return len(records) / (time.perf_counter() - started)
    finally:
        await producer.stop()


def intake_load(
    settings: Settings, rate: float, seconds: float, batch: int, log: Path, console: Console
) -> dict[str, Any]:
    """Single POSTs at `rate`/s, then batches of `batch` carrying as many records/s, each for `seconds`, to an
    intake of the bench's own (its own topic, limits out of the way); then every id's copies in Kafka."""
    from infra.topics import ensure_topics

    run = f"bench-intake-{uuid.uuid4().hex[:8]}"
    topic, plain_topic = run, f"{run}-plain"
    ensure_topics(settings, [topic, plain_topic])
    singles = int(rate * seconds)
    batch_rate = rate / batch  # the same records/s as the single POSTs
    batches = int(batch_rate * seconds)
    records = survey_responses(singles + batches * batch, run, seed=7, start=time.time(), rate=1000.0)
    bodies = [as_json(r) for r in records]
    intake = spawn_intake(
        log,
        MIROIR_SURVEY_TOPIC=topic,
        MIROIR_INTAKE_RATE_PER_TOKEN=str(rate * 100),
        MIROIR_INTAKE_RATE_BURST=str(int(rate * 100)),
    )
    token = with_tokens(settings, lambda store: store.create(run, time.time()))
    try:
        console.print(f"bench: intake, {rate:.0f} single POSTs/s for {seconds:.0f}s...")
        single = asyncio.run(offer(intake.url, token, [[b] for b in bodies[:singles]], rate))
        console.print(f"bench: intake, {batch_rate:g} POSTs/s of {batch} records for {seconds:.0f}s...")
        rest = bodies[singles:]
        batched = asyncio.run(
            offer(intake.url, token, [rest[i : i + batch] for i in range(0, len(rest), batch)], batch_rate)
        )
    finally:
        intake.stop()
        with_tokens(settings, lambda store: store.forget(run))
    in_kafka = ids_in_topic(settings, topic)
    accepted = set(single.pop("accepted_ids")) | set(batched.pop("accepted_ids"))
    console.print("bench: a plain Kafka producer, same records...")
    plain = asyncio.run(_plain_producer(settings, plain_topic, records))
    return {
        "single": single,
        "batched": {**batched, "batch": batch},
        "accepted": len(accepted),
        "lost": len(accepted - set(in_kafka)),  # answered 202, not in Kafka
        "duplicated": sum(n - 1 for n in in_kafka.values() if n > 1),
        "in_kafka_not_accepted": len(set(in_kafka) - accepted),  # e.g. a 503 whose record landed after all
        "plain_producer_per_s": round(plain, 1),
    }
