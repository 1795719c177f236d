"""The agent that keeps each journey's windows and publishes its mirror."""

from __future__ import annotations

import time
from typing import Any

from miroir.settings import settings
from processors.pipeline import count_once, evaluate
from processors.windows import JourneyTally
from streams.app import app
from streams.config import pipeline_config
from streams.metrics import record_alerts, record_mirror_latency, record_states
from streams.tables import counter_to_count, journey_to_tally
from streams.topics import COUNTERS_KEY, journey_delta_topic, mirror_state_topic, step_alert_topic


@app.agent(journey_delta_topic)
async def update_mirror(stream):
    config = pipeline_config()
    async for journey_id, delta in stream.items():
        if journey_id == COUNTERS_KEY:
            count_inputs(delta["inputs"])
            continue
        tally = JourneyTally.from_dict(journey_to_tally[journey_id])
        tally.apply(config.windows, delta["sightings"], config.taxonomy.thresholds.evidence_ids)
        now = time.time()
        tally.expire(config.windows)
        states, alerts = evaluate(journey_id, tally, config, now=now)
        journey_to_tally[journey_id] = tally.to_dict()
        record_mirror_latency([now - stamp for stamp in delta.get("produced_at", [])])
        record_states(states)
        record_alerts(alerts)
        await publish(states, alerts)


@app.timer(interval=settings.pipeline.snapshot_interval)
async def publish_snapshots() -> None:
    config = pipeline_config()
    for journey_id, data in list(journey_to_tally.items()):
        states, _ = evaluate(journey_id, JourneyTally.from_dict(data), config, now=time.time(), snapshot=True)
        record_states(states)
        await publish(states, [])


def count_inputs(inputs: list[list[Any]]) -> None:
    """Add what became of each input to the counters, once per input: "@<topic:partition>" keeps
    the next offset not yet counted, so a redelivered input is skipped."""
    marks = {source: counter_to_count[f"@{source}"] for source, _, _ in inputs}
    for name, n in count_once(inputs, marks).items():
        counter_to_count[name] += n
    for source, mark in marks.items():
        counter_to_count[f"@{source}"] = mark


async def publish(states: list[dict], alerts: list[dict]) -> None:
    for state in states:
        await mirror_state_topic.send(key=f"{state['journey_id']}|{state['step_id']}|{state['window']}", value=state)
    for alert in alerts:
        await step_alert_topic.send(key=f"{alert['journey_id']}|{alert['step_id']}", value=alert)
