"""Sends Avro records to the input topics (simulator, replay, demo)."""

from __future__ import annotations

from typing import Any

from kafka import KafkaProducer

from miroir.settings import Settings
from schemas import codec_for_topic

TOPIC_OF_KIND = {"survey": "survey-responses", "staff": "staff-feedback"}


class RecordProducer:
    """A kafka-python producer that encodes each record with its topic's Avro schema."""

    def __init__(self, settings: Settings) -> None:
        self._producer = KafkaProducer(**settings.kafka.client_config(), acks="all", linger_ms=20, retries=5)
        self.sent = 0

    def send(self, kind: str, record: dict[str, Any]) -> None:
        topic = TOPIC_OF_KIND[kind]
        key = record.get("response_id") or record.get("feedback_id")
        self._producer.send(topic, key=str(key).encode(), value=codec_for_topic(topic).encode(record))
        self.sent += 1

    def send_record(self, topic: str, key: str, record: dict[str, Any]) -> None:
        self._producer.send(topic, key=key.encode(), value=codec_for_topic(topic).encode(record))
        self.sent += 1

    def send_raw(self, topic: str, value: bytes) -> None:
        self._producer.send(topic, value=value)
        self.sent += 1

    def close(self) -> None:
        self._producer.flush(timeout=60)
        self._producer.close()

    def __enter__(self) -> RecordProducer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
