"""The worker's JSON read-outs: the current mirror and the pipeline's counters."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from faust import web

from processors.pipeline import evaluate
from processors.windows import JourneyTally
from streams.app import app
from streams.config import pipeline_config
from streams.tables import counter_to_count, journey_to_tally


def current_mirror() -> list[dict[str, Any]]:
    config = pipeline_config()
    states: list[dict[str, Any]] = []
    for journey_id, data in list(journey_to_tally.items()):
        found, _ = evaluate(journey_id, JourneyTally.from_dict(data), config, now=time.time(), snapshot=True)
        states.extend(found)
    return [{k: v.isoformat() if isinstance(v, datetime) else v for k, v in s.items()} for s in states]


def counters() -> dict[str, Any]:
    totals: dict[str, int] = {}
    for key, n in list(counter_to_count.items()):
        name = key.split("|", 1)[0]
        totals[name] = totals.get(name, 0) + n
    dead = {k.removeprefix("dead:"): v for k, v in totals.items() if k.startswith("dead:")}
    return {
        "in": totals.get("in", 0),
        "processed": totals.get("processed", 0),
        "dead_lettered": sum(dead.values()),
        "dead_letters_by_reason": dead,
        "untagged": totals.get("untagged", 0),
    }


@app.page("/mirror/")
async def mirror_view(self: web.View, request: web.Request) -> web.Response:
    return self.json({"states": current_mirror(), "counters": counters()})


@app.page("/counters/")
async def counters_view(self: web.View, request: web.Request) -> web.Response:
    assigned = sorted(f"{tp.topic}:{tp.partition}" for tp in app.assignor.assigned_actives())
    return self.json({**counters(), "assigned": assigned})
