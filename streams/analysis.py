"""Agents that decode, check and analyse the inputs, then send per-journey deltas on.

Each takes its topic in batches: one delta per journey per batch goes to the
journey-deltas topic, and the counters are written once per batch, which keeps
table writes O(1) per batch rather than per event.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from faust.types import EventT

from miroir.settings import settings
from processors.pipeline import PipelineConfig, observe_staff_feedback, observe_survey_response
from processors.taxonomy import Taxonomy
from processors.validation import Rejection, check_staff_feedback, check_survey_response
from processors.windows import JourneyTally
from schemas import AvroCodec, SerializationError, codec_for_topic
from streams.app import app
from streams.config import pipeline_config
from streams.tables import counter_to_count
from streams.topics import dead_letter_topic, journey_delta_topic, staff_feedback_topic, survey_response_topic

Check = Callable[[dict[str, Any], Taxonomy, float], Rejection | None]
Observe = Callable[[dict[str, Any], PipelineConfig, dict[str, JourneyTally]], bool]


@app.agent(survey_response_topic)
async def analyse_survey_responses(stream):
    async for events in stream.take_events(settings.pipeline.batch_size, settings.pipeline.batch_within):
        await analyse_batch(
            events, codec_for_topic("survey-responses"), check_survey_response, observe_survey_response
        )


@app.agent(staff_feedback_topic)
async def analyse_staff_feedback(stream):
    async for events in stream.take_events(settings.pipeline.batch_size, settings.pipeline.batch_within):
        await analyse_batch(
            events, codec_for_topic("staff-feedback"), check_staff_feedback, observe_staff_feedback
        )


async def analyse_batch(events: Sequence[EventT], codec: AvroCodec, check: Check, observe: Observe) -> None:
    config = pipeline_config()
    deltas: dict[str, JourneyTally] = {}
    counts: Counter[str] = Counter()
    now = time.time()
    for event in events:
        source = f"{event.message.topic}:{event.message.partition}"
        counts[f"in|{source}"] += 1
        try:
            record = codec.decode(event.value)
            rejection = check(record, config.taxonomy, now)
        except SerializationError as error:
            rejection = Rejection(error.reason, str(error))
        if rejection:
            await send_dead_letter(event, rejection, now)
            counts[f"dead:{rejection.reason}|{source}"] += 1
            continue
        tagged = observe(record, config, deltas)
        counts[f"processed|{source}"] += 1
        if not tagged:
            counts[f"untagged|{source}"] += 1
    for journey_id, delta in deltas.items():
        await journey_delta_topic.send(key=journey_id, value=delta.to_dict())
    for key, n in counts.items():
        counter_to_count[key] += n


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
