"""Avro records of every schema through the real Kafka broker and back."""

from __future__ import annotations

import pytest

from config.settings import Settings
from schemas import codec_for, schema_names
from tests.examples import EXAMPLES
from tests.integration.kafka_io import consume, produce


@pytest.mark.parametrize("name", schema_names())
def test_records_of_each_schema_come_back_equal(stack: Settings, fresh_topic: str, name: str) -> None:
    codec = codec_for(name)
    sent = [EXAMPLES[name], {**EXAMPLES[name], "schema_version": 2}]
    produce(stack, fresh_topic, [codec.encode(record) for record in sent])

    received = consume(stack, fresh_topic, expected=len(sent))

    assert [codec.decode(message.value) for message in received] == sent


def test_the_pipeline_topics_exist_with_their_partitions(stack: Settings) -> None:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(**stack.kafka.client_config())
    try:
        described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(stack.pipeline.topics.public())}
    finally:
        admin.close()
    assert described == {topic: stack.kafka.topic_partitions for topic in stack.pipeline.topics.public()}
