"""Small helpers to produce and read back real Kafka topics in tests."""

from __future__ import annotations

import time
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from config.settings import Settings


def produce(settings: Settings, topic: str, values: list[bytes], keys: list[bytes] | None = None) -> None:
    producer = KafkaProducer(**settings.kafka.client_config(), acks="all")
    try:
        for i, value in enumerate(values):
            producer.send(topic, value=value, key=keys[i] if keys else None)
        producer.flush(timeout=30)
    finally:
        producer.close()


def consume(settings: Settings, topic: str, expected: int, timeout: float = 30.0) -> list[Any]:
    """Read `topic` from the start until `expected` messages came or `timeout` passed."""
    consumer = KafkaConsumer(
        topic,
        **settings.kafka.client_config(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=1000,
    )
    messages: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(messages) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                messages.extend(batch)
    finally:
        consumer.close()
    return messages


def consume_all(settings: Settings, topic: str, timeout: float = 30.0) -> list[Any]:
    """Every message the topic holds now (up to its end offsets when called)."""
    from kafka import TopicPartition

    consumer = KafkaConsumer(**settings.kafka.client_config(), enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        messages: list[Any] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in partitions) and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                messages.extend(batch)
        return messages
    finally:
        consumer.close()
