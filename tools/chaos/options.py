"""What a chaos run is asked (the scenarios, the options) and how it fails."""

from __future__ import annotations

from dataclasses import dataclass

SCENARIOS = (
    "crash",
    "two-workers",
    "scale-out",
    "broker-restart",
    "redis-outage",
    "intake-kill",
    "intake-broker-down",
    "notify-smtp-down",
    "notify-webhook-500",
    "notify-kill",
)


class ChaosError(RuntimeError):
    """A scenario could not run to its end; the message says where to look."""


@dataclass
class ChaosOptions:
    events: int = 50_000
    kills: int = 5
    seed: int = 11
    invalid_share: float = 0.02
    resent_share: float = 0.01  # messages that re-send an earlier record (same key and bytes): duplicates
    scenarios: tuple[str, ...] = SCENARIOS
    outage: float = 10.0  # seconds the broker or Redis stays down
    intake_records: int = 5_000  # records POSTed in each intake scenario
    intake_rate: float = 200.0  # records/s the intake scenarios' sender offers
    notify_callbacks: int = 900  # dissatisfied responses fed in each notify scenario (each one a callback)
    notify_rate: float = 10.0  # of them per second (3 notifications each: the notifier keeps up, ~80/s)
    notify_outage: float = 15.0  # seconds the SMTP server is down, or the webhook answers 500
    notify_kills: int = 2  # SIGKILLs of the worker while it sends, in notify-kill
    notify_burst: int = 100  # callbacks fed at once before each kill: a batch to kill it in the middle of
