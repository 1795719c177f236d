"""The faults: what each scenario does to its workers, the broker or Redis while they work."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from rich.console import Console

from config.settings import Settings
from tools.chaos.options import ChaosError, ChaosOptions
from tools.chaos.run import Run
from tools.readout import WorkerUnavailable, fetch


def no_fault(run: Run, settings: Settings, options: ChaosOptions, console: Console) -> None:
    """The reference: one worker, left alone."""


def crash(run: Run, settings: Settings, options: ChaosOptions, console: Console) -> None:
    """SIGKILL the worker at random points of the backlog, and start it again at once."""
    rng = random.Random(options.seed)
    worker = run.workers[0]
    for target in sorted(int(rng.uniform(0.05, 0.85) * run.replay.sent) for _ in range(options.kills)):
        run.wait_for_progress(target)
        worker.kill()
        restarted = time.monotonic()
        worker.start()
        before = run.counted_in_changelog(settings)  # so that recovering that much is not taken for progress
        seconds = run.recovered(restarted, before)
        run.faults.append(f"SIGKILL at {before:,}")
        console.print(f"chaos: {run.name}: killed at {before:,} counted, moving again after {seconds:.1f}s")


def two_workers(run: Run, settings: Settings, options: ChaosOptions, console: Console) -> None:
    """Two workers in one group; SIGKILL one mid-way and leave it dead: its partitions must move."""
    run.wait_for_progress(run.replay.sent // 2)
    run.workers[1].kill()
    killed = time.monotonic()
    before = run.counted_in_changelog(settings)
    run.wait_until(run.owns_every_input, "the survivor taking every input partition")
    seconds = run.recovered(killed, before)
    run.faults.append(f"SIGKILL of one of two at {before:,}")
    console.print(f"chaos: {run.name}: one of two killed at {before:,}; the other took over in {seconds:.1f}s")


def scale_out(run: Run, settings: Settings, options: ChaosOptions, console: Console) -> None:
    """A second worker joins mid-stream: half the partitions, and the tables on them, move to it
    while batches are in flight (the rebalance that once lost inputs)."""
    before = run.wait_for_progress(int(run.replay.sent * 0.3))
    joined = time.monotonic()
    run.workers[1].start()
    run.wait_until(
        lambda: all(c and c["assigned"] for c in (w.counters() for w in run.workers)) and run.owns_every_input(),
        "the group sharing the partitions between both workers",
    )
    seconds = run.recovered(joined, before)
    run.faults.append(f"second worker joined at {before:,}")
    console.print(f"chaos: {run.name}: a second worker joined at {before:,}; counting again after {seconds:.1f}s")


def broker_restart(run: Run, settings: Settings, options: ChaosOptions, console: Console) -> None:
    """Stop Kafka mid-stream, keep it down, start it again; the worker must carry on by itself."""
    from infra.broker import start_kafka, stop_kafka
    from infra.processes import Paths

    before = run.wait_for_progress(int(run.replay.sent * 0.4))
    stop_kafka(settings, echo=lambda line: console.print(f"chaos: {line}"))
    time.sleep(options.outage)
    restarted = time.monotonic()
    start_kafka(settings, Paths(settings), echo=lambda line: console.print(f"chaos: {line}"))
    seconds = run.recovered(restarted, before)
    run.faults.append(f"broker down {options.outage:.0f}s at {before:,}")
    console.print(f"chaos: {run.name}: broker back; the worker moved again after {seconds:.1f}s")


def redis_outage(run: Run, settings: Settings, options: ChaosOptions, console: Console) -> None:
    """Stop Redis mid-stream: the mirror keeps going and says since when the queue is unreachable;
    once Redis is back every held callback is queued."""
    from infra.processes import Paths
    from infra.stack import start_redis, stop_redis

    run.wait_for_progress(int(run.replay.sent * 0.3))
    stop_redis(settings, echo=lambda line: console.print(f"chaos: {line}"))
    url = run.workers[0].url
    down = run.wait_until(lambda: _queue_state(url) == "unavailable", "the read-out marking the queue unavailable")
    during = run.counted()
    time.sleep(options.outage)
    readout = fetch(url, "/mirror/")
    moving = run.counted() > during or during == run.replay.sent
    if not readout["callbacks"].get("stale_since") or not moving:
        raise ChaosError(f"{run.name}: with Redis down the mirror stopped or did not say since when: {readout}")
    restarted = time.monotonic()
    start_redis(settings, Paths(settings), echo=lambda line: console.print(f"chaos: {line}"))
    run.wait_until(
        lambda: _queue_state(url) == "ok" and run.callbacks_held(settings) == 0, "queueing the held callbacks"
    )
    seconds = time.monotonic() - restarted
    run.recoveries.append(round(seconds, 1))
    run.faults.append(f"Redis down {options.outage:.0f}s (marked stale after {down:.1f}s)")
    console.print(f"chaos: {run.name}: Redis back; every held callback queued after {seconds:.1f}s")


def _queue_state(url: str) -> str | None:
    try:
        return str(fetch(url, "/mirror/", timeout=5)["callbacks"]["queue"])
    except (WorkerUnavailable, KeyError):
        return None


Fault = Callable[[Run, Settings, ChaosOptions, Console], None]
# scenario -> (workers, how many start with the run, the fault)
FAULTS: dict[str, tuple[int, int, Fault]] = {
    "reference": (1, 1, no_fault),
    "crash": (1, 1, crash),
    "two-workers": (2, 2, two_workers),
    "scale-out": (2, 1, scale_out),
    "broker-restart": (1, 1, broker_restart),
    "redis-outage": (1, 1, redis_outage),
}
