"""The notification bench's and chaos's exact count of what arrived, by delivery id."""

from __future__ import annotations

import itertools
from typing import Any

from processors.notifications import EMAIL
from tools.bench.notify_rig import JSON

ON_THE_WIRE = 5.0  # seconds: a receiver may take a send the dead notifier had already written


def tally(
    expected: dict[str, tuple[str, str]],
    arrivals: list[tuple[str, str, float]],
    faults_at: tuple[float, ...] = (),
    failed_sends: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Exactly once, by delivery id: per channel, what was expected and received; the ids missing,
    the ids nobody expected, and each second copy of an id, explained by the notifier's windows
    (sinks/notify/notifier.py) or not: a fault (`faults_at`: a kill, an SMTP server stopped) struck
    between the two copies, else a send of it the notifier recorded as failed (`failed_sends`: a
    timeout whose answer a slow receiver wrote later), else a duplicate. A fault up to ON_THE_WIRE
    seconds before the first copy counts as between: a send the notifier wrote whole just before a
    kill reaches a loaded receiver a moment after it."""
    copies: dict[str, list[float]] = {}
    for delivery, _, at in arrivals:
        copies.setdefault(delivery, []).append(at)
    in_window = after_failed = outside = 0
    for delivery, times in copies.items():
        times.sort()
        failed = (failed_sends or {}).get(delivery, 0)
        for first, again in itertools.pairwise(times):
            if any(first - ON_THE_WIRE <= f <= again for f in faults_at):
                in_window += 1
            elif failed > 0:
                failed -= 1
                after_failed += 1
            else:
                outside += 1
    out: dict[str, Any] = {
        "deliveries_expected": len(expected),
        "distinct_delivery_ids": len(copies.keys() & expected.keys()),
        "missing": len(expected.keys() - copies.keys()),
        "unexpected_ids": len(copies.keys() - expected.keys()),
        "redelivered_same_id": in_window + after_failed + outside,
        "redelivered_in_fault_window": in_window,
        "redelivered_after_failed_send": after_failed,
        "duplicates_outside_window": outside,
    }
    for channel, label in ((EMAIL, "emails"), (JSON, "webhooks")):
        out[f"{label}_expected"] = sum(1 for _, c in expected.values() if c == channel)
        out[f"{label}_received"] = sum(1 for _, c, _ in arrivals if c == channel)
    return out


def first_arrivals(arrivals: list[tuple[str, str, float]]) -> dict[str, float]:
    """Each delivery id's first arrival."""
    first: dict[str, float] = {}
    for delivery, _, at in arrivals:
        first[delivery] = min(at, first.get(delivery, at))
    return first
