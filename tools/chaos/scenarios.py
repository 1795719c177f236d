"""The whole run: the replay, the reference, then each scenario on fresh workers, compared."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console

from config.settings import Settings
from tools.chaos.compare import Outcome, compare
from tools.chaos.faults import FAULTS
from tools.chaos.intake import INTAKE_FAULTS, run_intake_scenario
from tools.chaos.notify import NOTIFY_FAULTS, run_notify_scenario
from tools.chaos.options import SCENARIOS, ChaosError, ChaosOptions
from tools.chaos.replay import Replay, produce_replay
from tools.chaos.run import Run, scenario_env
from tools.chaos.state import settled_state, topic_size
from tools.workers import Worker

# The reference and each scenario get a Redis database of their own, from this one on: Redis has
# 16 (0-15) by default, and 0 is the pilot's.
FIRST_REDIS_DB = 8


def run_scenario(
    settings: Settings, name: str, replay: Replay, redis_db: int, options: ChaosOptions, console: Console
) -> tuple[Run, dict[str, Any], int]:
    import redis

    from infra.topics import ensure_topics

    count, starting, fault = FAULTS[name]
    env, app_id, redis_url = scenario_env(settings, name, replay, redis_db)
    ensure_topics(settings, [env["MIROIR_CALLBACK_REQUEST_TOPIC"]])
    redis.Redis.from_url(redis_url).flushdb()
    logs = settings.stack.run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    port, data = int(env["MIROIR_WEB_PORT"]), settings.stack.run_dir / "worker"
    # info: faust logs when it starts and ends reading the changelogs (Worker.changelog_seconds)
    workers = [
        Worker(env, port + i, data / f"{app_id}-{i}", logs / f"worker-{app_id}.log", level="info") for i in range(count)
    ]
    run = Run(name, app_id, redis_url, replay, workers)
    console.print(f"chaos: {name}: {count} worker(s) of {app_id} (log {workers[0].log})")
    started = time.monotonic()
    try:
        for worker in workers[:starting]:
            worker.start()
        run.wait_until(run.owns_every_input, "the workers taking their partitions", timeout=180)
        fault(run, settings, options, console)
        state = settled_state(settings, run)
        requests = topic_size(settings, env["MIROIR_CALLBACK_REQUEST_TOPIC"])
        if not workers[0].alive():
            raise ChaosError(f"{name}: the worker died; see {workers[0].log}")
    finally:
        for worker in workers:
            worker.stop()
    console.print(f"chaos: {name}: done in {time.monotonic() - started:.0f}s")
    return run, state, requests


def run_chaos(settings: Settings, options: ChaosOptions, console: Console) -> list[Outcome]:
    unknown = set(options.scenarios) - set(SCENARIOS)
    if unknown:
        raise ChaosError(f"unknown scenario(s) {', '.join(sorted(unknown))}; choose among {', '.join(SCENARIOS)}")
    restarted = {
        "broker-restart": ("kafka", "kafka.Kafka"),
        "intake-broker-down": ("kafka", "kafka.Kafka"),
        "redis-outage": ("redis", "redis-server"),
    }
    for scenario in set(options.scenarios) & set(restarted):
        _require_own(settings, scenario, *restarted[scenario])
    # The notify scenarios have a redis-server of their own (the outbox's consumer group is global).
    replayed = [s for s in options.scenarios if s not in INTAKE_FAULTS and s not in NOTIFY_FAULTS]
    if FIRST_REDIS_DB + len([s for s in options.scenarios if s not in NOTIFY_FAULTS]) > 15:
        raise ChaosError(f"at most {15 - FIRST_REDIS_DB} scenarios using the stack's Redis in one run")
    outcomes = []
    if replayed:
        name = f"chaos-{time.strftime('%Y%m%d-%H%M%S')}"
        replay = produce_replay(settings, name, options, console)
        _, reference, ref_requests = run_scenario(settings, "reference", replay, FIRST_REDIS_DB, options, console)
    databases = iter(range(FIRST_REDIS_DB + 1, 16))
    for scenario in options.scenarios:
        if scenario in NOTIFY_FAULTS:  # the feed knows every callback: no reference run needed
            outcomes.append(run_notify_scenario(settings, scenario, options, console))
            continue
        db = next(databases)
        if scenario in INTAKE_FAULTS:  # the sender knows every id: no reference run needed
            outcomes.append(run_intake_scenario(settings, scenario, db, options, console))
            continue
        run, state, requests = run_scenario(settings, scenario, replay, db, options, console)
        outcomes.append(compare(run, state, reference, requests, ref_requests))
    return outcomes


def _require_own(settings: Settings, scenario: str, service: str, marker: str) -> None:
    """Stopping and starting a service needs the one `miroir stack up` started from this run folder."""
    from infra.processes import Paths, running_pid

    if running_pid(Paths(settings), service, marker) is None:
        raise ChaosError(
            f"{scenario} stops and starts {service}, but no {service} started by `miroir stack up` from "
            f"{settings.stack.run_dir} runs (another one answers, or none). Run `miroir stack down` and "
            f"`miroir stack up` here, or leave {scenario} out (--scenarios)."
        )
