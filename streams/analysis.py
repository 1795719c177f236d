"""Agents that decode, check and analyse the inputs, then send per-journey deltas on.

Each takes its topic in batches: one delta per journey per batch, and one
message of the batch's counters, go to the journey-deltas topic, which keeps
table writes O(1) per batch rather than per event. Survey responses that ask
for a callback produce a CallbackRequest. An input whose business id was
processed already is a duplicate: counted, nothing else (processors/dedupe.py);
the ids are remembered in `seen_ids` (one lookup per input, one write per new
one) and forgotten by a timer once older than the long window.
"""

from __future__ import annotations

import asyncio
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
from processors.dedupe import DUPLICATE, UNKEYED, Verdict, business_id, first_seen, keyed_by_id, stale, verdict
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
from processors.privacy import ERASED
from processors.validation import Rejection, check_staff_feedback, check_survey_response
from schemas import AvroCodec, codec_for
from streams.app import app
from streams.decoding import decode_input
from streams.metrics import CALLBACKS_REQUESTED, LATENCY, REMEMBERED_IDS, record_counts
from streams.privacy import is_erased, worker_config
from streams.records import JourneyDelta
from streams.tables import first_seen_of, forget, owned_partitions, remember, seen_ids
from streams.topics import (
    COUNTERS_KEY,
    callback_request_topic,
    dead_letter_log_topic,
    dead_letter_topic,
    journey_delta_topic,
    staff_feedback_topic,
    survey_response_topic,
)

log = logging.getLogger(__name__)

Then = Callable[[dict[str, Any], Observation, float], Awaitable[None]]

SWEEP_EVERY = 300.0  # seconds between two sweeps of seen_ids for ids older than the long window
SWEEP_CHUNK = 10_000  # ids a sweep looks at between two turns of the event loop


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
    config = worker_config()
    deltas: Sightings = {}
    produced: dict[str, list[float]] = {}  # Kafka timestamps per journey, for produce -> mirror latency
    counted: list[list[Any]] = []
    read: dict[str, Ranges] = {}
    now = time.time()
    for event in events:
        message = event.message
        LATENCY.observe(max(now - message.timestamp, 0.0))
        source, offset = f"{message.topic}:{message.partition}", message.offset
        add(read.setdefault(source, []), offset)
        record = decode_input(event.value, codec)
        if isinstance(record, Rejection):
            await send_dead_letter(event, record, now)
            counted.append([source, offset, ["in", f"dead:{record.reason}"]])
            continue
        if is_erased(record, config):  # counted, and nothing else kept (streams/privacy.py)
            counted.append([source, offset, ["in", ERASED]])
            continue
        seen, new_key, unkeyed = identify(record, message.key, message.partition, offset)
        if seen is Verdict.DUPLICATE:
            counted.append([source, offset, ["in", DUPLICATE, *unkeyed]])
            continue
        outcome = take_input(record, check, observe, config, deltas, now, (source, offset))
        if isinstance(outcome, Rejection):
            await send_dead_letter(event, outcome, now)
            counted.append([source, offset, ["in", f"dead:{outcome.reason}"]])
            continue
        if new_key is not None:
            await remember(new_key, first_seen(message.partition, offset, now), message.partition)
        counted.append([source, offset, ["in", "processed", *(() if outcome.tagged else ("untagged",)), *unkeyed]])
        produced.setdefault(record.get("journey_id") or "*", []).append(message.timestamp)
        if then is not None:
            await then(record, outcome, now)
    # Every journey hears of every offset read, seen in it or not (see JourneyTally.apply).
    for journey_id in config.taxonomy.journeys:
        sightings = deltas.get(journey_id, [])
        stamps = produced.get(journey_id, []) + produced.get("*", []) if sightings else []
        await journey_delta_topic.send(key=journey_id, value=JourneyDelta.of_journey(sightings, read, stamps))
    await journey_delta_topic.send(key=COUNTERS_KEY, value=JourneyDelta.of_counters(counted))
    record_counts(Counter(name for _, _, names in counted for name in names))


def identify(
    record: dict[str, Any], key: bytes | str | None, partition: int, offset: int
) -> tuple[Verdict, str | None, tuple[str, ...]]:
    """New, redelivered or duplicate (one lookup in seen_ids); the key to remember if it is processed
    (new inputs only); ("unkeyed",) when its Kafka key is not its id."""
    known = business_id(record)
    if known is None:
        return Verdict.NEW, None, (UNKEYED,)
    seen = verdict(first_seen_of(known[0]), partition, offset)
    return seen, known[0] if seen is Verdict.NEW else None, () if keyed_by_id(key, known[1]) else (UNKEYED,)


@app.timer(interval=SWEEP_EVERY)
async def forget_expired_ids() -> None:
    await sweep_seen_ids(time.time(), owned_partitions())


async def sweep_seen_ids(now: float, owned: set[int]) -> int:
    """Forget the ids first seen more than the long window ago, a chunk at a time so that the
    agents keep running; tombstones only for the partitions this worker owns (their owner
    writes the others'). Returns how many were forgotten."""
    keep, data = settings.pipeline.long_window, seen_ids.data
    keys, forgotten = list(data.keys()), 0
    for start in range(0, len(keys), SWEEP_CHUNK):
        for key, partition in stale(((k, data.get(k)) for k in keys[start : start + SWEEP_CHUNK]), now, keep):
            await forget(key, partition, tombstone=partition in owned)
            forgotten += 1
        await asyncio.sleep(0)
    REMEMBERED_IDS.set(len(data))
    return forgotten


async def send_dead_letter(event: EventT, rejection: Rejection, now: float) -> None:
    """To dead-letters with its bytes and the reason in words, for whoever repairs it (kept
    `dead_letter_days`); to dead-letter-log without them (its detail may quote a value), kept long."""
    message = event.message
    letter = {
        "source_topic": message.topic,
        "source_partition": message.partition,
        "source_offset": message.offset,
        "reason": rejection.reason,
        "detail": rejection.detail[:2000],
        "original": bytes(event.value) if isinstance(event.value, bytes | bytearray) else b"",
        "received_at": datetime.fromtimestamp(now, tz=UTC),
    }
    await dead_letter_topic.send(key=message.topic, value=letter)
    await dead_letter_log_topic.send(key=message.topic, value={**letter, "detail": "", "original": b""})
