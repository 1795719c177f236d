"""An intake of its own for a test, the bench or a chaos scenario: `miroir intake serve` as a
subprocess on a free port, with MIROIR_* overrides (its topics, its limits), that can be stopped,
SIGKILLed and started again on the same port (tools/services.py); and the token store, for one
action at a time."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from config.settings import Settings
from services.intake import PATHS
from sinks.intake_tokens import TokenStore
from tools.services import RunningService, spawn_service

T = TypeVar("T")
RunningIntake = RunningService  # `miroir intake serve`, as tools/services.py runs one


def spawn_intake(log: Path, **env: str) -> RunningIntake:
    """`miroir intake serve` on a free port with these MIROIR_* overrides, answering."""
    return spawn_service("intake", log, **env)


def ids_in_topic(settings: Settings, topic: str) -> Counter[str]:
    """How many times each input's id is in `topic` (survey responses or staff stories), read from
    its start to its end now."""
    from kafka import KafkaConsumer, TopicPartition

    from schemas import INPUT_SCHEMAS, codec_for

    codecs = [codec_for(INPUT_SCHEMAS[kind]) for kind in PATHS]
    consumer = KafkaConsumer(**settings.kafka.client_config(), enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        seen: Counter[str] = Counter()
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for records in consumer.poll(timeout_ms=1000).values():
                seen.update(_input_id(codecs, r.value) for r in records)
        return seen
    finally:
        consumer.close()


def _input_id(codecs: list[Any], value: bytes) -> str:
    from schemas import SerializationError

    for codec in codecs:
        try:
            record = codec.decode(value)
        except SerializationError:
            continue
        return str(record.get("response_id") or record.get("feedback_id"))
    raise ValueError(f"not an input record: {value[:10]!r}")


def with_tokens(settings: Settings, action: Callable[[TokenStore], Awaitable[T]]) -> T:
    """Run one action on the real token store."""

    async def go() -> T:
        store = TokenStore.from_url(settings.redis.dsn)
        try:
            return await action(store)
        finally:
            await store.close()

    return asyncio.run(go())
