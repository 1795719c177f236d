"""A scenario's state against the reference run's: what was lost, duplicated, redelivered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.chaos.run import Run
from tools.chaos.state import mirror_types, verbatims, window_figures


@dataclass
class Outcome:
    scenario: str
    events: int
    faults: list[str]
    lost: int
    duplicated: int
    redelivered: int
    counted_in: int
    processed: int
    dead_lettered: int
    duplicates: int  # inputs counted as copies of an id processed before
    reference_duplicates: int
    reconciled: bool  # in = processed + dead + duplicates = sent, and as many duplicates as the reference
    figures_equal: str
    types_equal: str
    callbacks: int
    recovery_seconds: list[float]
    changelog_seconds: list[float]
    detail: dict[str, Any]

    @property
    def passed(self) -> bool:
        return not self.lost and not self.duplicated and self.reconciled and self.detail["figures_differ"] == []


def _same(a: tuple[int, int, float, float] | None, b: tuple[int, int, float, float] | None) -> bool:
    """Equal counts, and sums equal but for the order floats were added in."""
    if a is None or b is None:
        return a is b
    return a[:2] == b[:2] and abs(a[2] - b[2]) < 1e-6 and abs(a[3] - b[3]) < 1e-6


def compare(run: Run, state: dict[str, Any], reference: dict[str, Any], requests: int, ref_requests: int) -> Outcome:
    counters = state["counters"]
    processed = counters.get("processed", 0)
    dead = sum(v for k, v in counters.items() if k.startswith("dead:"))
    counted_in = counters.get("in", 0)
    duplicates, ref_duplicates = counters.get("duplicate", 0), reference["counters"].get("duplicate", 0)
    figures, ref_figures = window_figures(state["tallies"]), window_figures(reference["tallies"])
    differ = sorted(k for k in ref_figures.keys() | figures.keys() if not _same(figures.get(k), ref_figures.get(k)))
    types, ref_types = mirror_types(state["tallies"]), mirror_types(reference["tallies"])
    seen, ref_seen = verbatims(state["tallies"]), verbatims(reference["tallies"])
    queue, ref_queue = state["queue"], reference["queue"]
    customers, ref_customers = set(queue["customers"]), set(ref_queue["customers"])
    missing_verbatims = sum(max(0, ref_seen[k] - seen[k]) for k in ref_seen)
    extra_verbatims = sum(max(0, seen[k] - ref_seen[k]) for k in seen)
    queued_twice = sum(n - 1 for n in queue["entries"].values())
    requests_missing = ref_queue["decided"] - queue["decided"]  # a request the queue never saw
    requests_unexpected = queue["decided"] - ref_queue["decided"]
    return Outcome(
        scenario=run.name,
        events=run.replay.sent,
        faults=run.faults,
        lost=(run.replay.sent - counted_in)
        + missing_verbatims
        + len(requests_missing)
        + len(ref_customers - customers),
        duplicated=extra_verbatims + queued_twice + len(customers - ref_customers) + len(requests_unexpected),
        redelivered=max(0, requests - ref_requests),
        counted_in=counted_in,
        processed=processed,
        dead_lettered=dead,
        duplicates=duplicates,
        reference_duplicates=ref_duplicates,
        reconciled=counted_in == processed + dead + duplicates == run.replay.sent and duplicates == ref_duplicates,
        figures_equal=f"{len(ref_figures) - len(differ)}/{len(ref_figures)}",
        types_equal=f"{sum(types.get(k) == v for k, v in ref_types.items())}/{len(ref_types)}",
        callbacks=len(queue["entries"]),
        recovery_seconds=run.recoveries,
        changelog_seconds=run.changelog_reads,
        detail={
            "figures_differ": differ[:20],
            "types_differ": sorted(k for k, v in ref_types.items() if types.get(k) != v)[:20],
            "missing_verbatims": missing_verbatims,
            "extra_verbatims": extra_verbatims,
            "callbacks_queued_twice": queued_twice,
            "requests_missing": sorted(requests_missing)[:20],
            "requests_unexpected": sorted(requests_unexpected)[:20],
            "customers_missing_a_callback": sorted(ref_customers - customers)[:20],
            "customers_with_unexpected_callback": sorted(customers - ref_customers)[:20],
            "dead_letters_by_reason": {k[5:]: v for k, v in counters.items() if k.startswith("dead:")},
            "resent": run.replay.resent,
            "unkeyed": counters.get("unkeyed", 0),
        },
    )
