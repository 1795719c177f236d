"""Sends Avro records to the input topics (simulator, replay, demo)."""

from __future__ import annotations

from typing import Any

from kafka import KafkaProducer

from config.settings import Settings
from schemas import INPUT_SCHEMAS, AvroCodec, codec_for


class RecordProducer:
    """A kafka-python producer that encodes each record with its topic's Avro schema.

    Input topics are the settings' (`MIROIR_SURVEY_TOPIC`, `MIROIR_STAFF_TOPIC`),
    the same the worker reads."""

    def __init__(self, settings: Settings) -> None:
        self._producer = KafkaProducer(**settings.kafka.client_config(), acks="all", linger_ms=20, retries=5)
        self.topics = settings.pipeline.topics
        self.sent = 0

    def send(self, kind: str, record: dict[str, Any]) -> None:
        """A 'survey' or 'staff' record, keyed by its business id."""
        key = record.get("response_id") or record.get("feedback_id")
        self.send_record(self.topics.of_kind(kind), str(key), record, codec_for(INPUT_SCHEMAS[kind]))

    def send_record(self, topic: str, key: str, record: dict[str, Any], codec: AvroCodec) -> None:
        self._producer.send(topic, key=key.encode(), value=codec.encode(record))
        self.sent += 1

    def send_raw(self, topic: str, value: bytes) -> None:
        self._producer.send(topic, value=value)
        self.sent += 1

    def flush(self) -> None:
        """Until Kafka has every record sent so far."""
        self._producer.flush(timeout=60)

    def close(self) -> None:
        self._producer.flush(timeout=60)
        self._producer.close()

    def __enter__(self) -> RecordProducer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
