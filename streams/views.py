"""The worker's JSON read-outs: the current mirror and the pipeline's counters."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from faust import web

from processors.config import pipeline_config
from processors.pipeline import evaluate
from processors.windows import JourneyTally
from streams.access import requires_token
from streams.app import app
from streams.callbacks import callback_figures
from streams.metrics import recent_mirror_latencies
from streams.tables import INPUTS_KEY, input_counts, journey_to_tally, seen_ids


def current_mirror() -> list[dict[str, Any]]:
    """Every step's MirrorState (both windows), with its evidence verbatims (redacted)."""
    config = pipeline_config()
    states: list[dict[str, Any]] = []
    for journey_id, data in list(journey_to_tally.items()):
        tally = JourneyTally.from_dict(data)
        for state in evaluate(journey_id, tally, config, now=time.time(), snapshot=True)[0]:
            state["evidence"] = {side: _evidence(tally, side, state["step_id"]) for side in ("customer", "staff")}
            states.append({k: v.isoformat() if isinstance(v, datetime) else v for k, v in state.items()})
    return states


def _evidence(tally: JourneyTally, side: str, step_id: str) -> list[dict[str, str]]:
    # Never the subject keys that follow the text: they are for erasures, not for show.
    return [{"id": entry[0], "text": entry[1]} for entry in tally.evidence.get(f"{side}|{step_id}", [])]


def rss_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return round(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024, 1)


def counters() -> dict[str, Any]:
    totals = input_counts.get(INPUTS_KEY, {}).get("counts", {})
    dead = {k.removeprefix("dead:"): v for k, v in totals.items() if k.startswith("dead:")}
    return {
        "in": totals.get("in", 0),
        "processed": totals.get("processed", 0),
        "dead_lettered": sum(dead.values()),
        "dead_letters_by_reason": dead,
        "duplicate": totals.get("duplicate", 0),  # in = processed + dead_lettered + duplicate + erased
        "erased": totals.get("erased", 0),  # about a person who asked to be forgotten: nothing kept
        "untagged": totals.get("untagged", 0),
        "unkeyed": totals.get("unkeyed", 0),  # Kafka key not the business id: deduplicated within its partition
    }


async def mirror_readout() -> dict[str, Any]:
    return {"states": current_mirror(), "counters": counters(), "callbacks": await callback_figures()}


@app.page("/mirror/")
@requires_token
async def mirror_view(self: web.View, request: web.Request) -> web.Response:
    return self.json(await mirror_readout())


@app.page("/latency/")
@requires_token
async def latency_view(self: web.View, request: web.Request) -> web.Response:
    """Produce -> mirror latencies seen by this worker: count and percentiles (seconds)."""
    samples = sorted(recent_mirror_latencies)
    quantiles = {
        f"p{q}": samples[min(len(samples) - 1, int(len(samples) * q / 100))] if samples else None for q in (50, 95, 99)
    }
    return self.json({"count": len(samples), **quantiles})


@app.page("/counters/")
@requires_token
async def counters_view(self: web.View, request: web.Request) -> web.Response:
    assigned = sorted(f"{tp.topic}:{tp.partition}" for tp in app.assignor.assigned_actives())
    return self.json({**counters(), "assigned": assigned, "rss_mib": rss_mib(), "remembered_ids": len(seen_ids.data)})
