"""Counted once by business id, on the real stack: the same export sent twice changes nothing."""

from __future__ import annotations

import time
import uuid
from typing import Any

from rich.console import Console

from config.settings import Settings
from infra.topics import ensure_topics
from schemas import INPUT_SCHEMAS, codec_for
from tests.integration.kafka_io import consume_all
from tools.demo import wait_until_processed
from tools.producer import RecordProducer
from tools.readout import fetch
from tools.simulate import simulate
from tools.workers import pilot_workers

EVENTS = 400
RATE = 2.0  # events per second of event time: the export spans the last few minutes


def export(marker: str) -> list[tuple[str, dict[str, Any]]]:
    """The synthetic pilot's events with ids (and customers) of this run only."""
    out = []
    for event in simulate(7, time.time() - EVENTS / RATE, EVENTS, RATE):
        record = dict(event.record)
        field = "response_id" if event.kind == "survey" else "feedback_id"
        record[field] = f"{marker}-{record[field]}"
        if "customer_ref" in record:
            record["customer_ref"] = f"{marker}-{record['customer_ref']}"
        out.append((event.kind, record))
    return out


def send(settings: Settings, topics: dict[str, str], records: list[tuple[str, dict[str, Any]]]) -> None:
    with RecordProducer(settings) as producer:
        for kind, record in records:
            key = str(record.get("response_id") or record.get("feedback_id"))  # keyed by business id
            producer.send_record(topics[kind], key, record, codec_for(INPUT_SCHEMAS[kind]))


def figures(mirror: dict[str, Any]) -> dict[tuple[str, str, str], tuple[int, int, int, int, str]]:
    """Per journey, step and window: both sides' n and verbatims, and the type."""
    return {
        (s["journey_id"], s["step_id"], s["window"]): (
            s["customer"]["n"],
            s["staff"]["n"],
            len(s["evidence_ids"]),
            len(s["evidence"]["customer"]),
            s["mirror_type"],
        )
        for s in mirror["states"]
    }


def callback_requests(settings: Settings, topic: str) -> list[str]:
    codec = codec_for("CallbackRequest")
    return sorted(codec.decode(m.value)["callback_id"] for m in consume_all(settings, topic))


def test_the_same_export_sent_twice_is_counted_once(stack: Settings) -> None:
    marker = uuid.uuid4().hex[:10]
    records = export(marker)
    # Topics of its own: no other test's records reach this pilot, no other pilot's callbacks these.
    topics = {"survey": f"test-dup-survey-{marker}", "staff": f"test-dup-staff-{marker}"}
    callbacks = f"test-dup-callbacks-{marker}"
    ensure_topics(stack, [*topics.values(), callbacks])
    env = {
        "MIROIR_SURVEY_TOPIC": topics["survey"],
        "MIROIR_STAFF_TOPIC": topics["staff"],
        "MIROIR_CALLBACK_REQUEST_TOPIC": callbacks,
    }
    with pilot_workers(stack, Console(quiet=True), env=env) as (url,):
        send(stack, topics, records)
        once = wait_until_processed(url, EVENTS, timeout=180)
        counted = fetch(url, "/counters/")
        asked = callback_requests(stack, callbacks)

        send(stack, topics, records)  # the same export again: a second import
        send(stack, topics, records[:50])  # and some a third time: a producer's retries
        twice = wait_until_processed(url, 2 * EVENTS + 50, timeout=180)
        recounted = fetch(url, "/counters/")
        asked_again = callback_requests(stack, callbacks)

    assert (counted["in"], counted["processed"], counted["duplicate"]) == (EVENTS, EVENTS, 0)
    assert asked, "the export asks for callbacks"
    assert figures(twice) == figures(once)  # the windows did not move
    assert asked_again == asked  # no callback requested twice
    assert recounted["processed"] == counted["processed"] and recounted["dead_lettered"] == 0
    assert recounted["duplicate"] == EVENTS + 50  # exactly what was sent again
    assert recounted["in"] == recounted["processed"] + recounted["dead_lettered"] + recounted["duplicate"]
    assert recounted["unkeyed"] == 0 and recounted["remembered_ids"] == EVENTS
