"""The fault scenarios, short: real workers SIGKILLed, a worker of two lost, one joining, the broker and Redis
restarted, each compared with an uninterrupted run of the same replay; the intake SIGKILLed under a retrying
sender and the broker stopped under it; the notifier's SMTP server stopped, its webhook answering 500, its
worker SIGKILLed mid-send (`make chaos` runs them long)."""

from __future__ import annotations

from rich.console import Console

from config.settings import Settings
from tools.chaos import ChaosOptions, chaos_table, notify_table, run_chaos


def test_faults_lose_nothing_and_duplicate_nothing(stack: Settings) -> None:
    console = Console(width=160, record=True)
    replayed = ("crash", "two-workers", "scale-out", "broker-restart", "redis-outage")
    options = ChaosOptions(events=3000, kills=2, seed=5, outage=6.0, scenarios=replayed)
    outcomes = {o.scenario: o for o in run_chaos(stack, options, console)}
    console.print(chaos_table(list(outcomes.values())))
    print(console.export_text())

    assert tuple(outcomes) == replayed
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


def test_the_intake_killed_or_without_broker_loses_nothing_and_counts_once(stack: Settings) -> None:
    console = Console(width=160, record=True)
    scenarios = ("intake-kill", "intake-broker-down")
    options = ChaosOptions(kills=2, seed=5, outage=6.0, scenarios=scenarios, intake_records=1200)
    outcomes = {o.scenario: o for o in run_chaos(stack, options, console)}
    console.print(chaos_table(list(outcomes.values())))
    print(console.export_text())

    assert tuple(outcomes) == scenarios
    for o in outcomes.values():
        assert (o.lost, o.duplicated) == (0, 0), o.detail
        assert o.detail["accepted_not_in_kafka"] == 0  # never a 202 for a record Kafka does not have
        assert o.processed == 1200 and o.dead_lettered == 0
        # Every copy a retry wrote to Kafka is counted as a duplicate, and nothing else is.
        assert o.reconciled and o.duplicates == o.redelivered
        assert o.recovery_seconds and o.callbacks > 0
    kill, down = outcomes["intake-kill"], outcomes["intake-broker-down"]
    assert len(kill.faults) == 2 and kill.detail["answers"]["transport"] > 0
    assert kill.duplicates > 0  # the sender re-sent its checkpoint after each cut: copies, counted once
    # With the broker stopped the intake said 503 with Retry-After, and took the records once it was back.
    assert down.detail["answers"]["503"] > 0 and "503 without Retry-After" not in down.detail["answers"]


def test_notifications_arrive_exactly_once_through_endpoint_faults_and_a_kill(stack: Settings) -> None:
    console = Console(width=200, record=True)
    scenarios = ("notify-smtp-down", "notify-webhook-500", "notify-kill")
    options = ChaosOptions(
        scenarios=scenarios, notify_callbacks=60, notify_rate=10, notify_outage=4, notify_kills=1, notify_burst=40
    )
    outcomes = {o.scenario: o for o in run_chaos(stack, options, console)}
    console.print(notify_table(list(outcomes.values())))
    print(console.export_text())

    assert tuple(outcomes) == scenarios
    for o in outcomes.values():
        d = o.detail
        # Every callback admitted, and each of its notifications (2 managers' e-mails, 1 webhook) arrived...
        assert o.callbacks == o.events and o.reconciled and o.lost == 0, d
        assert d["emails_received"] >= d["emails_expected"] == 2 * o.callbacks and d["missing"] == 0
        assert d["webhooks_received"] >= d["webhooks_expected"] == o.callbacks
        # ...once: never a second copy that neither a fault between the two nor a send the notifier
        # saw fail (a timeout on a slow, loaded receiver) explains, never an id nobody expected.
        assert o.duplicated == d["duplicates_outside_window"] == d["unexpected_ids"] == 0
        assert o.recovery_seconds and o.passed
    assert outcomes["notify-webhook-500"].detail["webhook_posts_refused"] > 0  # the 500s were met, then retried
    for name in ("notify-smtp-down", "notify-webhook-500"):  # and the failed sends recorded, as the tally reads them
        assert outcomes[name].detail["deliveries_with_failed_sends"] > 0
    # A kill may resend what an endpoint took before the sent mark (the documented window): same id.
    kill = outcomes["notify-kill"]
    assert kill.redelivered == kill.detail["redelivered_same_id"]
    assert kill.detail["redelivered_in_fault_window"] <= sum(kill.detail["in_flight_at_kill"])
