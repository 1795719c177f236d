"""The seeded replay every scenario and the reference read: the synthetic pilot, bad inputs included,
and a share of records sent again (same key, same bytes, a new offset), which the pipeline must count
as duplicates, the same ones across SIGKILLs and rebalances as in the reference run."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from rich.console import Console

from config.settings import Settings
from config.topics import STAFF_FEEDBACK, SURVEY_RESPONSES
from schemas import INPUT_SCHEMAS, codec_for
from tools.chaos.options import ChaosOptions
from tools.demo import invalid_inputs
from tools.simulate import simulate

EVENT_RATE = 20.0  # events per second of event time: 50,000 events span about 40 minutes


@dataclass(frozen=True)
class Replay:
    survey_topic: str
    staff_topic: str
    sent: int
    partitions: int
    resent: int = 0  # of `sent`: copies of a record sent before it


def produce_replay(settings: Settings, name: str, options: ChaosOptions, console: Console) -> Replay:
    """The seeded pilot, bad inputs and records sent again included, on two fresh input topics."""
    from kafka import KafkaProducer

    from infra.topics import ensure_topics

    topics = (f"{name}-{SURVEY_RESPONSES}", f"{name}-{STAFF_FEEDBACK}")
    ensure_topics(settings, list(topics))
    topic_of = {"survey": topics[0], "staff": topics[1]}
    rng = random.Random(options.seed + 1)
    start = time.time() - options.events / EVENT_RATE
    producer = KafkaProducer(**settings.kafka.client_config(), acks="all", linger_ms=20, batch_size=256 * 1024)
    good: list[tuple[str, bytes, bytes]] = []  # (topic, key, value) of the valid records sent, to send again
    resent = 0
    for i, event in enumerate(simulate(options.seed, start, options.events, EVENT_RATE)):
        if rng.random() < options.invalid_share:
            producer.send(topics[0], value=invalid_inputs(rng, i, event.record["event_time"]))
            continue
        if good and rng.random() < options.resent_share:
            topic, key, value = rng.choice(good)  # a producer's retry, a second import: keyed by id as before
            producer.send(topic, key=key, value=value)
            resent += 1
            continue
        key = str(event.record.get("response_id") or event.record.get("feedback_id")).encode()
        value = codec_for(INPUT_SCHEMAS[event.kind]).encode(event.record)
        producer.send(topic_of[event.kind], key=key, value=value)
        good.append((topic_of[event.kind], key, value))
    producer.flush(timeout=120)
    producer.close()
    console.print(
        f"chaos: replay of {options.events:,} events (seed {options.seed}, {resent:,} sent again) on {topics[0]}, ..."
    )
    return Replay(topics[0], topics[1], options.events, settings.kafka.topic_partitions, resent)
