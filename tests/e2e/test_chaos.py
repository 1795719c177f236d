"""The fault scenarios, short: real workers SIGKILLed, a worker of two lost, one joining, the broker and Redis
restarted, each compared with an uninterrupted run of the same replay (`make chaos` runs them long)."""

from __future__ import annotations

from rich.console import Console

from config.settings import Settings
from tools.chaos import ChaosOptions, chaos_table, run_chaos


def test_faults_lose_nothing_and_duplicate_nothing(stack: Settings) -> None:
    console = Console(width=160, record=True)
    options = ChaosOptions(events=3000, kills=2, seed=5, outage=6.0)
    outcomes = {o.scenario: o for o in run_chaos(stack, options, console)}
    console.print(chaos_table(list(outcomes.values())))
    print(console.export_text())

    assert list(outcomes) == ["crash", "two-workers", "scale-out", "broker-restart", "redis-outage"]
    assert len(outcomes["crash"].faults) == 2
    for o in outcomes.values():
        assert (o.lost, o.duplicated) == (0, 0), o.detail
        assert o.reconciled and o.counted_in == o.processed + o.dead_lettered + o.duplicates == 3000
        # The records sent again stayed copies across the faults, as in the reference run.
        assert o.duplicates == o.reference_duplicates == o.detail["resent"] > 0
        assert o.detail["figures_differ"] == []  # every window figure equals the uninterrupted run's
        assert o.dead_lettered > 0 and o.callbacks > 0  # the replay exercised both
        assert o.recovery_seconds
    # The kills did make the pipeline redo work (at-least-once), and the idempotent sinks absorbed it.
    assert outcomes["crash"].redelivered + outcomes["two-workers"].redelivered > 0
