"""Producing from another language: Apache Avro's Java `BinaryMessageEncoder` and the Java Kafka client
write survey answers (infra/interop); a Miroir worker takes every one, and Python's codec reads the
very bytes Java wrote, the same fingerprint after the same C3 01 marker."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from config.settings import Settings
from config.topics import Topics
from infra.topics import ensure_topics
from schemas import codec_for
from tests.integration.kafka_io import consume_all
from tests.interop.java import produce_with_java
from tools.readout import fetch
from tools.workers import pilot_workers

pytestmark = pytest.mark.integration

COUNT = 200
PROCESS_TIMEOUT = 120.0


def wait_for_counters(url: str, count: int, timeout: float) -> dict[str, Any]:
    """The worker's counters once it has taken `count` inputs and settled each (processed or dead-lettered)."""
    deadline = time.monotonic() + timeout
    counters = fetch(url, "/counters/")
    while time.monotonic() < deadline:
        counters = fetch(url, "/counters/")
        if counters["in"] >= count and counters["processed"] + counters["dead_lettered"] >= counters["in"]:
            return counters
        time.sleep(0.5)
    raise AssertionError(f"the worker did not settle {count} inputs within {timeout:.0f}s: {counters}")


@pytest.mark.timeout(600)  # the first run resolves the Java jars with Maven
def test_a_java_producer_s_answers_are_all_processed(stack: Settings, java_jars: Path, tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    topics = Topics(
        f"test-interop-{run}",
        survey_responses=f"test-interop-survey-{run}",
        staff_feedback=f"test-interop-staff-{run}",
        dead_letters=f"test-interop-dead-{run}",
    )
    ensure_topics(stack, [*topics.inputs(), topics.dead_letters])
    env = {
        "MIROIR_SURVEY_TOPIC": topics.survey_responses,
        "MIROIR_STAFF_TOPIC": topics.staff_feedback,
        "MIROIR_DEAD_LETTER_TOPIC": topics.dead_letters,
    }
    marker = f"java-{run}"
    started = datetime.now(UTC)
    # A pilot starts at its topics' ends: it must be up before Java produces.
    with pilot_workers(stack, Console(quiet=True), env=env) as urls:
        java = produce_with_java(stack, java_jars, topics.survey_responses, COUNT, marker, tmp_path)
        assert (java.acknowledged, java.count) == (COUNT, COUNT), java.output
        counters = wait_for_counters(urls[0], COUNT, PROCESS_TIMEOUT)

    assert counters["in"] == COUNT
    assert counters["processed"] == COUNT
    assert counters["dead_lettered"] == 0 and counters["dead_letters_by_reason"] == {}
    assert consume_all(stack, topics.dead_letters) == []

    codec = codec_for("SurveyResponse")
    assert java.fingerprint == codec.fingerprint  # Java's CRC-64-AVRO of the .avsc == Python's
    messages = consume_all(stack, topics.survey_responses)
    assert len(messages) == COUNT
    assert all(m.value[:2] == b"\xc3\x01" and m.value[2:10] == codec.fingerprint for m in messages)
    records = [codec.decode(m.value) for m in messages]
    assert [m.key.decode() for m in messages] == [r["response_id"] for r in records]  # keyed by the id
    assert {r["response_id"] for r in records} == {f"{marker}-{i}" for i in range(COUNT)}
    assert {(r["journey_id"], r["score_scale"], r["language"], r["channel"]) for r in records} == {
        ("home_delivery", "NPS", "fr", "email")
    }
    assert {r["score"] for r in records} == set(range(11))
    assert any("é" in r["verbatim"] for r in records)  # UTF-8 both ways
    assert all(r["schema_version"] == 1 and r["contact"] is None for r in records)  # the schema's defaults
    assert all(started - timedelta(seconds=COUNT + 60) <= r["event_time"] <= datetime.now(UTC) for r in records)
