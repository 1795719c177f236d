"""The agent that keeps each journey's windows and publishes its mirror."""

from __future__ import annotations

import time
from dataclasses import replace

from config.settings import settings
from processors.config import pipeline_config
from processors.pipeline import add_inputs, evaluate
from processors.windows import JourneyTally
from streams.app import app
from streams.metrics import record_alerts, record_mirror_latency, record_states
from streams.privacy import ERASED
from streams.records import JOURNEY_DELTA_VERSION, JourneyDelta
from streams.tables import INPUTS_KEY, input_counts, journey_to_tally
from streams.topics import COUNTERS_KEY, journey_delta_topic, mirror_state_topic, step_alert_topic


@app.agent(journey_delta_topic)
async def update_mirror(stream):
    # No secret needed here (sightings carry their keys): nothing on the mirror's path waits for Redis.
    config = replace(pipeline_config(), min_staff=settings.privacy.min_staff)
    async for journey_id, delta in stream.items():
        check_version(delta)
        if journey_id == COUNTERS_KEY:
            input_counts[INPUTS_KEY] = add_inputs(input_counts[INPUTS_KEY], delta.inputs)
            continue
        if not delta.sightings and journey_id not in journey_to_tally:
            continue  # a journey nothing was said of yet: no tally to keep
        tally = JourneyTally.from_dict(journey_to_tally[journey_id])
        if delta.forget:  # an erasure (streams/privacy.py): the next snapshot shows the evidence left
            if tally.forget(set(delta.forget)):
                journey_to_tally[journey_id] = tally.to_dict()
            continue
        new = tally.apply(
            config.windows,
            delta.sightings,
            config.taxonomy.thresholds.evidence_ids,
            delta.read,
            forgotten=ERASED,
            min_staff=config.min_staff,
        )
        if not new:  # only offsets to mark: the windows did not move
            journey_to_tally[journey_id] = tally.to_dict()
            continue
        now = time.time()
        tally.expire(config.windows)
        states, alerts = evaluate(journey_id, tally, config, now=now)
        journey_to_tally[journey_id] = tally.to_dict()
        record_mirror_latency([now - stamp for stamp in delta.produced_at])
        record_states(states)
        record_alerts(alerts)
        await publish(states, alerts)


def check_version(delta: JourneyDelta) -> None:
    if not 1 <= delta.version <= JOURNEY_DELTA_VERSION:
        raise RuntimeError(
            f"journey delta version {delta.version}, this worker reads {JOURNEY_DELTA_VERSION}: "
            "every worker of a group must run the same release"
        )


@app.timer(interval=settings.pipeline.snapshot_interval)
async def publish_snapshots() -> None:
    config = pipeline_config()
    for journey_id, data in list(journey_to_tally.items()):
        states, _ = evaluate(journey_id, JourneyTally.from_dict(data), config, now=time.time(), snapshot=True)
        record_states(states)
        await publish(states, [])


async def publish(states: list[dict], alerts: list[dict]) -> None:
    for state in states:
        await mirror_state_topic.send(key=f"{state['journey_id']}|{state['step_id']}|{state['window']}", value=state)
    for alert in alerts:
        await step_alert_topic.send(key=f"{alert['journey_id']}|{alert['step_id']}", value=alert)
