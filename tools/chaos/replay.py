"""The seeded replay every scenario and the reference read: the synthetic pilot, bad inputs included."""

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


def produce_replay(settings: Settings, name: str, options: ChaosOptions, console: Console) -> Replay:
    """The seeded pilot, bad inputs included, on two fresh input topics."""
    from kafka import KafkaProducer

    from infra.topics import ensure_topics

    replay = Replay(
        f"{name}-{SURVEY_RESPONSES}", f"{name}-{STAFF_FEEDBACK}", options.events, settings.kafka.topic_partitions
    )
    ensure_topics(settings, [replay.survey_topic, replay.staff_topic])
    topic_of = {"survey": replay.survey_topic, "staff": replay.staff_topic}
    rng = random.Random(options.seed + 1)
    start = time.time() - options.events / EVENT_RATE
    producer = KafkaProducer(**settings.kafka.client_config(), acks="all", linger_ms=20, batch_size=256 * 1024)
    for i, event in enumerate(simulate(options.seed, start, options.events, EVENT_RATE)):
        if rng.random() < options.invalid_share:
            producer.send(replay.survey_topic, value=invalid_inputs(rng, i, event.record["event_time"]))
            continue
        key = event.record.get("response_id") or event.record.get("feedback_id")
        producer.send(
            topic_of[event.kind], key=str(key).encode(), value=codec_for(INPUT_SCHEMAS[event.kind]).encode(event.record)
        )
    producer.flush(timeout=120)
    producer.close()
    console.print(f"chaos: replay of {options.events:,} events (seed {options.seed}) on {replay.survey_topic}, ...")
    return replay
