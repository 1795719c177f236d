"""The worker's JSON read-outs: the current mirror and the pipeline's counters."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from faust import web

from processors.callbacks import loop_metrics
from processors.pipeline import evaluate
from processors.windows import JourneyTally
from streams.app import app
from streams.config import pipeline_config
from streams.tables import counter_to_count, journey_to_tally, site_step_to_loop


def current_mirror() -> list[dict[str, Any]]:
    """Every step's MirrorState (both windows), with its evidence verbatims (redacted)."""
    config = pipeline_config()
    states: list[dict[str, Any]] = []
    for journey_id, data in list(journey_to_tally.items()):
        tally = JourneyTally.from_dict(data)
        for state in evaluate(journey_id, tally, config, now=time.time(), snapshot=True)[0]:
            state["evidence"] = {
                side: [{"id": i, "text": text} for i, text in tally.evidence.get(f"{side}|{state['step_id']}", [])]
                for side in ("customer", "staff")
            }
            states.append({k: v.isoformat() if isinstance(v, datetime) else v for k, v in state.items()})
    return states


def counters() -> dict[str, Any]:
    totals = dict(counter_to_count.items())
    dead = {k.removeprefix("dead:"): v for k, v in totals.items() if k.startswith("dead:")}
    return {
        "in": totals.get("in", 0),
        "processed": totals.get("processed", 0),
        "dead_lettered": sum(dead.values()),
        "dead_letters_by_reason": dead,
        "untagged": totals.get("untagged", 0),
    }


async def callback_figures() -> dict[str, Any]:
    """Per 'site|step': open and overdue (from the Redis queue), resolved within SLA and median
    time to callback (from the outcomes). Redis being down is said, not fatal."""
    from streams.callbacks import REDIS_DOWN, callback_queue

    figures: dict[str, Any] = {
        key: loop_metrics(loop.get("durations", []), loop.get("within_sla", 0), loop.get("resolved", 0))
        for key, loop in list(site_step_to_loop.items())
    }
    try:
        queue_counts = await callback_queue().open_counts(time.time())
    except REDIS_DOWN as error:
        return {"queue": f"unavailable: {error}", "by_site_step": figures}
    for key, counts in queue_counts.items():
        figures[key] = {**figures.get(key, loop_metrics([], 0, 0)), **counts}
    return {"queue": "ok", "by_site_step": figures}


async def mirror_readout() -> dict[str, Any]:
    return {"states": current_mirror(), "counters": counters(), "callbacks": await callback_figures()}


@app.page("/mirror/")
async def mirror_view(self: web.View, request: web.Request) -> web.Response:
    return self.json(await mirror_readout())


@app.page("/counters/")
async def counters_view(self: web.View, request: web.Request) -> web.Response:
    assigned = sorted(f"{tp.topic}:{tp.partition}" for tp in app.assignor.assigned_actives())
    return self.json({**counters(), "assigned": assigned})
