"""The intake under load, short (`make bench` offers 500 requests/s for a minute): a burst of
concurrent POSTs is answered 202, every one is in Kafka exactly once."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from config.settings import Settings
from tools.bench.intake import offer
from tools.http_sender import as_json
from tools.intake import ids_in_topic, spawn_intake, with_tokens
from tools.simulate import survey_responses


def test_a_burst_of_concurrent_posts_is_taken_whole_and_once(stack: Settings, tmp_path: Path) -> None:
    from infra.topics import ensure_topics

    run = f"test-load-{uuid.uuid4().hex[:8]}"
    ensure_topics(stack, [run])
    intake = spawn_intake(
        tmp_path / "intake.log",
        MIROIR_SURVEY_TOPIC=run,
        MIROIR_INTAKE_RATE_PER_TOKEN="100000",
        MIROIR_INTAKE_RATE_BURST="100000",
    )
    token = with_tokens(stack, lambda store: store.create(run, time.time()))
    try:
        # 400 single POSTs at once: more in flight than a Redis pool's connections (once 503
        # "Too many connections" for most of them), then 20 batches of 25.
        records = [as_json(r) for r in survey_responses(900, run, seed=7, start=time.time(), rate=1000.0)]
        single = asyncio.run(offer(intake.url, token, [[r] for r in records[:400]], rate=10_000))
        batched = asyncio.run(offer(intake.url, token, [records[i : i + 25] for i in range(400, 900, 25)], 200))
    finally:
        intake.stop()
        with_tokens(stack, lambda store: store.forget(run))

    assert single["statuses"] == {"202": 400}, single["statuses"]
    assert batched["statuses"] == {"202": 20}, batched["statuses"]
    assert single["p50_ms"] > 0
    in_kafka = ids_in_topic(stack, run)
    assert (
        set(in_kafka)
        == set(single["accepted_ids"]) | set(batched["accepted_ids"])
        == {r["response_id"] for r in records}
    )
    assert set(in_kafka.values()) == {1}
