"""Agents that decode, check and analyse the inputs, then send per-journey deltas on.

Each takes its topic in batches: one delta per journey per batch, and one
message of the batch's counters, go to the journey-deltas topic, which keeps
table writes O(1) per batch rather than per event. Survey responses that ask
for a callback produce a CallbackRequest.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from faust.types import EventT

from config.settings import settings
from processors.callbacks import callback_request
from processors.config import pipeline_config
from processors.offsets import Ranges, add
from processors.pipeline import (
    Check,
    Observation,
    Observe,
    Sightings,
    observe_staff_feedback,
    observe_survey_response,
    take_input,
)
from processors.validation import Rejection, check_staff_feedback, check_survey_response
from schemas import AvroCodec, codec_for
from streams.app import app
from streams.decoding import decode_input
from streams.metrics import CALLBACKS_REQUESTED, LATENCY, record_counts
from streams.records import JourneyDelta
from streams.topics import (
    COUNTERS_KEY,
    callback_request_topic,
    dead_letter_topic,
    journey_delta_topic,
    staff_feedback_topic,
    survey_response_topic,
)

log = logging.getLogger(__name__)

Then = Callable[[dict[str, Any], Observation, float], Awaitable[None]]


@app.agent(survey_response_topic)
async def analyse_survey_responses(stream):
    async for events in stream.take_events(settings.pipeline.batch_size, settings.pipeline.batch_within):
        await analyse_batch(
            events,
            codec_for("SurveyResponse"),
            check_survey_response,
            observe_survey_response,
            then=ask_for_callback,
        )


@app.agent(staff_feedback_topic)
async def analyse_staff_feedback(stream):
    async for events in stream.take_events(settings.pipeline.batch_size, settings.pipeline.batch_within):
        await analyse_batch(events, codec_for("StaffFeedback"), check_staff_feedback, observe_staff_feedback)


async def ask_for_callback(record: dict[str, Any], observation: Observation, now: float) -> None:
    taxonomy = pipeline_config().taxonomy
    request = callback_request(
        record, observation.polarity, taxonomy, taxonomy.callbacks, datetime.fromtimestamp(now, tz=UTC)
    )
    if request is not None:
        await callback_request_topic.send(key=request["site"], value=request)
        CALLBACKS_REQUESTED.labels(request["site"]).inc()


async def analyse_batch(
    events: Sequence[EventT], codec: AvroCodec, check: Check, observe: Observe, then: Then | None = None
) -> None:
    """Decode, check and observe each event; send the batch's sightings per journey and what became
    of each input (for the counters) on to the journey-deltas topic."""
    config = pipeline_config()
    deltas: Sightings = {}
    produced: dict[str, list[float]] = {}  # Kafka timestamps per journey, for produce -> mirror latency
    counted: list[list[Any]] = []
    read: dict[str, Ranges] = {}
    now = time.time()
    for event in events:
        LATENCY.observe(max(now - event.message.timestamp, 0.0))
        source, offset = f"{event.message.topic}:{event.message.partition}", event.message.offset
        add(read.setdefault(source, []), offset)
        record = decode_input(event.value, codec)
        outcome = (
            record
            if isinstance(record, Rejection)
            else take_input(record, check, observe, config, deltas, now, (source, offset))
        )
        if isinstance(outcome, Rejection):
            await send_dead_letter(event, outcome, now)
            counted.append([source, offset, ["in", f"dead:{outcome.reason}"]])
            continue
        assert not isinstance(record, Rejection)
        counted.append([source, offset, ["in", "processed", *(() if outcome.tagged else ("untagged",))]])
        produced.setdefault(record.get("journey_id") or "*", []).append(event.message.timestamp)
        if then is not None:
            await then(record, outcome, now)
    # Every journey hears of every offset read, seen in it or not (see JourneyTally.apply).
    for journey_id in config.taxonomy.journeys:
        sightings = deltas.get(journey_id, [])
        stamps = produced.get(journey_id, []) + produced.get("*", []) if sightings else []
        await journey_delta_topic.send(key=journey_id, value=JourneyDelta.of_journey(sightings, read, stamps))
    await journey_delta_topic.send(key=COUNTERS_KEY, value=JourneyDelta.of_counters(counted))
    record_counts(Counter(name for _, _, names in counted for name in names))


async def send_dead_letter(event: EventT, rejection: Rejection, now: float) -> None:
    message = event.message
    await dead_letter_topic.send(
        key=message.topic,
        value={
            "source_topic": message.topic,
            "source_partition": message.partition,
            "source_offset": message.offset,
            "reason": rejection.reason,
            "detail": rejection.detail[:2000],
            "original": bytes(event.value) if isinstance(event.value, bytes | bytearray) else b"",
            "received_at": datetime.fromtimestamp(now, tz=UTC),
        },
    )
