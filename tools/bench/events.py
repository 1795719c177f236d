"""The bench's inputs: encoded survey responses of the synthetic pilot, produced to a topic of their own."""

from __future__ import annotations

import time

from rich.console import Console

from config.settings import Settings
from schemas import codec_for
from tools.simulate import simulate

SURVEY = codec_for("SurveyResponse")

# (Kafka key, value): keyed by response_id, as Miroir's producers send inputs (each id on one partition).
Keyed = tuple[bytes, bytes]


def survey_events(count: int, seed: int, start: float, rate: float) -> list[Keyed]:
    """`count` encoded survey responses of the synthetic pilot (staff stories skipped), each with its key."""
    out: list[Keyed] = []
    for event in simulate(seed, start, count * 2, rate, staff_share=0.0):
        out.append((event.record["response_id"].encode(), SURVEY.encode(event.record)))
        if len(out) == count:
            break
    return out


def produce_topic(settings: Settings, topic: str, values: list[Keyed], console: Console) -> None:
    from kafka import KafkaProducer

    from infra.topics import ensure_topics

    ensure_topics(settings, [topic])
    producer = KafkaProducer(**settings.kafka.client_config(), acks=1, linger_ms=50, batch_size=256 * 1024)
    started = time.monotonic()
    for key, value in values:
        producer.send(topic, value=value, key=key)
    producer.flush(timeout=300)
    producer.close()
    console.print(f"bench: produced {len(values)} events to {topic} in {time.monotonic() - started:.1f}s")
