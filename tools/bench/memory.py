"""Worker memory over a long stream."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console

from config.settings import Settings
from tools.bench.events import survey_events
from tools.bench.throughput import pipeline_throughput
from tools.readout import fetch


def memory(settings: Settings, steps: tuple[int, ...], console: Console) -> dict[str, Any]:
    """Worker RSS after each step of a long stream whose event times span more than the long window.

    The windows' buckets expire with event time; the remembered ids (seen_ids) do not: they expire
    30 days after they were first seen, by the worker's clock, so every id of this stream stays."""
    total = steps[-1]
    span = 40 * 86400.0  # past the 30-day window, so buckets expire
    values = survey_events(total, 5, time.time() - span, total / span)
    readings: dict[str, float] = {}
    remembered: dict[str, int] = {}

    def sample(seen: int, urls: list[str]) -> None:
        for step in steps:
            if seen >= step and str(step) not in readings:
                counters = fetch(urls[0], "/counters/")
                readings[str(step)], remembered[str(step)] = counters["rss_mib"], counters.get("remembered_ids", 0)
                console.print(f"bench: RSS after {step} events: {readings[str(step)]} MiB, {remembered[str(step)]} ids")

    pipeline_throughput(settings, values, 1, console, on_progress=sample)
    last, before = readings[str(steps[-1])], readings[str(steps[-2])] if len(steps) > 1 else None
    return {
        "rss_mib": readings,
        "remembered_ids": remembered,
        "growth_last_step": round(last / before - 1, 3) if before else None,
    }
