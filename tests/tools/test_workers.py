"""A fresh pilot reads exactly what was produced after it was created, however late its workers
get their partitions (`auto_offset_reset=latest` skipped what came in between)."""

from __future__ import annotations

import time
import uuid

import pytest
from rich.console import Console

from config.settings import Settings
from config.topics import Topics
from infra.topics import ensure_topics
from schemas import codec_for
from tests.examples import EXAMPLES
from tests.integration.kafka_io import produce
from tools.readout import fetch
from tools.workers import pilot_workers, start_at_the_end

pytestmark = pytest.mark.integration


def responses(marker: str, count: int) -> list[bytes]:
    codec = codec_for("SurveyResponse")
    return [codec.encode({**EXAMPLES["SurveyResponse"], "response_id": f"{marker}-{i}"}) for i in range(count)]


def test_a_pilot_counts_what_came_after_it_was_created_and_nothing_before(stack: Settings) -> None:
    run = uuid.uuid4().hex[:8]
    topics = Topics(f"test-pilot-{run}", survey_responses=f"test-survey-{run}", staff_feedback=f"test-staff-{run}")
    ensure_topics(stack, list(topics.inputs()))
    produce(stack, topics.survey_responses, responses("before", 5))
    start_at_the_end(stack, topics)
    produce(stack, topics.survey_responses, responses("after", 7))  # before any worker runs
    env = {
        "MIROIR_APP_ID": topics.app_id,
        "MIROIR_SURVEY_TOPIC": topics.survey_responses,
        "MIROIR_STAFF_TOPIC": topics.staff_feedback,
        "MIROIR_AUTO_OFFSET_RESET": "earliest",  # for the new groups' other topics; the inputs have commits
    }
    with pilot_workers(stack, Console(quiet=True), env=env) as urls:
        deadline = time.monotonic() + 60
        while fetch(urls[0], "/counters/")["in"] < 7 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(3)  # the 5 earlier ones would show by now
        assert fetch(urls[0], "/counters/")["in"] == 7


def test_a_pilot_replaying_its_inputs_still_skips_the_callback_requests_of_earlier_pilots(stack: Settings) -> None:
    from kafka import KafkaConsumer, TopicPartition

    run = uuid.uuid4().hex[:8]
    topics = Topics(f"test-pilot-{run}", callback_requests=f"test-callbacks-{run}")
    ensure_topics(stack, [topics.callback_requests], partitions=1)
    produce(stack, topics.callback_requests, [b"an earlier pilot's request"] * 3)
    start_at_the_end(stack, topics, inputs=False)
    consumer = KafkaConsumer(**stack.kafka.client_config(), group_id=topics.callback_sink_group)
    try:
        assert consumer.committed(TopicPartition(topics.callback_requests, 0)) == 3
    finally:
        consumer.close()
