"""The whole `miroir bench` run: every measure, in order, into one dict of results."""

from __future__ import annotations

import os
import platform
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from config.settings import Settings
from tools.bench.dedupe import remembered_id_bytes
from tools.bench.events import produce_topic, survey_events
from tools.bench.intake import intake_load
from tools.bench.latency import latency_at
from tools.bench.memory import memory
from tools.bench.notify import notify_at
from tools.bench.scorer import french_texts, scorer
from tools.bench.throughput import ceiling, framework_floor, pipeline_throughput


@dataclass
class BenchOptions:
    events: int = 100_000
    rates: tuple[int, ...] = (200, 1000)
    rate_seconds: float = 20.0
    memory_steps: tuple[int, ...] = (100_000, 500_000, 1_000_000)
    dedupe_ids: int = 100_000  # ids in the measure of memory per remembered id (in process, no stack)
    scale_out: bool = True
    intake_rate: float = 500.0  # single POSTs/s offered to the intake (batched: the same records/s); 0 to skip
    intake_seconds: float = 60.0
    intake_batch: int = 50
    # Notifications: every response offered is a callback (1 e-mail per manager + 1 webhook each).
    notify_rates: tuple[int, ...] = (200, 1000)
    notify_seconds: float = 30.0
    french_reviews: Path | None = None
    output: Path = Path("bench/results")


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0"
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(int(memory) / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def run_bench(settings: Settings, options: BenchOptions, console: Console) -> dict[str, Any]:
    from infra.stack import up

    up(settings, echo=lambda _: None)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "events": options.events,
    }
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    values = survey_events(options.events, 1, time.time(), 1000.0)
    produce_topic(settings, topic, values, console)
    console.print("bench: ceiling (aiokafka, decode only)...")
    results["ceiling_per_s"] = ceiling(settings, topic, options.events)
    console.print("bench: framework floor (bare faust agent, decode only)...")
    results["faust_floor_per_s"] = framework_floor(settings, topic, options.events)
    console.print("bench: pipeline (one real worker)...")
    results["pipeline_per_s"] = pipeline_throughput(settings, values, 1, console)
    results["pipeline_vs_ceiling"] = results["pipeline_per_s"] / results["ceiling_per_s"]
    results["pipeline_vs_faust_floor"] = results["pipeline_per_s"] / results["faust_floor_per_s"]
    if options.scale_out:
        console.print("bench: scale-out (two workers, one group)...")
        results["two_workers_per_s"] = pipeline_throughput(settings, values, 2, console)
        results["scale_out_ratio"] = results["two_workers_per_s"] / results["pipeline_per_s"]
    results["latency"] = []
    for rate in options.rates:
        console.print(f"bench: latency at {rate} events/s for {options.rate_seconds:.0f}s...")
        results["latency"].append(latency_at(settings, rate, options.rate_seconds))
    results["notify"] = []
    for rate in options.notify_rates:
        console.print(f"bench: notifications at {rate} responses/s for {options.notify_seconds:.0f}s...")
        measured = notify_at(settings, rate, options.notify_seconds)
        # The baseline: the same load, the worker's notifier off (what it costs the admission).
        without = notify_at(settings, rate, options.notify_seconds, notify=False)
        results["notify"].append(
            {**measured, **{f"baseline_{k}": v for k, v in without.items() if k.startswith("redis_")}}
        )
    if options.intake_rate:
        log = settings.stack.run_dir / "logs" / "bench-intake.log"
        results["intake"] = intake_load(
            settings, options.intake_rate, options.intake_seconds, options.intake_batch, log, console
        )
    console.print("bench: scorer vs plain TextBlob-fr...")
    results["scorer"] = scorer(french_texts(options.french_reviews))
    if options.dedupe_ids:
        console.print(f"bench: memory per remembered id ({options.dedupe_ids:,} ids)...")
        results["dedupe"] = remembered_id_bytes(options.dedupe_ids)
    if options.memory_steps:
        console.print(f"bench: memory over {options.memory_steps[-1]} events...")
        results["memory"] = memory(settings, options.memory_steps, console)
    return results
