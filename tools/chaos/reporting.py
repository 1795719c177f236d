"""The chaos table and the JSON of a run."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tools.chaos.compare import Outcome
from tools.chaos.options import ChaosOptions


def chaos_table(outcomes: list[Outcome]) -> Table:
    table = Table(
        "scenario",
        "events",
        "faults",
        "lost",
        "duplicated",
        "redelivered",
        "in = processed + dead + duplicate",
        "windows = reference",
        "types = reference",
        "callbacks",
        "recovery s (median / max)",
        "changelog read s (max)",
        title="Fault scenarios: the replayed ones against an uninterrupted run of the same replay, "
        "the intake's (intake-*) against the ids sent",
        title_justify="left",
    )
    for o in outcomes:
        recovery = (
            f"{statistics.median(o.recovery_seconds):.1f} / {max(o.recovery_seconds):.1f}"
            if o.recovery_seconds
            else "-"
        )
        table.add_row(
            o.scenario,
            f"{o.events:,}",
            str(len(o.faults)),
            _flag(o.lost),
            _flag(o.duplicated),
            f"{o.redelivered:,}",
            f"{o.counted_in:,} = {o.processed:,} + {o.dead_lettered:,} + {o.duplicates:,}"
            + ("" if o.duplicates == o.reference_duplicates else f" (reference {o.reference_duplicates:,})")
            + ("" if o.reconciled else " ✗"),
            o.figures_equal,
            o.types_equal,
            f"{o.callbacks:,}",
            recovery,
            f"{max(o.changelog_seconds):.2f}" if o.changelog_seconds else "-",
        )
    return table


def notify_table(outcomes: list[Outcome]) -> Table:
    """The notify-* scenarios' deliveries, by delivery id: exactly once per admitted callback."""
    table = Table(
        "scenario",
        "callbacks admitted",
        "e-mails received / expected",
        "webhooks received / expected",
        "missing",
        "redelivered, same id (across a fault or a failed send)",
        "duplicates (nothing between) / other ids",
        "webhook posts answered 500",
        "first notification after the fault s",
        "all due caught up after s",
        title="Notifications under faults: each admitted callback's e-mail per manager and webhook, by delivery id",
        title_justify="left",
    )
    for o in outcomes:
        d = o.detail
        table.add_row(
            o.scenario,
            f"{o.callbacks:,}",
            f"{d['emails_received']:,} / {d['emails_expected']:,}",
            f"{d['webhooks_received']:,} / {d['webhooks_expected']:,}",
            _flag(d["missing"]),
            f"{d['redelivered_in_fault_window']:,}",
            f"{_flag(d['duplicates_outside_window'])} / {_flag(d['unexpected_ids'])}",
            f"{d['webhook_posts_refused']:,}",
            ", ".join(f"{s:.1f}" for s in d["first_notification_after_s"]) or "-",
            ", ".join(f"{s:.1f}" for s in o.recovery_seconds) or "-",
        )
    return table


def _flag(n: int) -> str:
    return "0" if n == 0 else f"[bold red]{n:,}[/]"


def report(outcomes: list[Outcome], options: ChaosOptions, console: Console, output: Path) -> Path:
    Console(width=max(console.width, 160)).print(chaos_table(outcomes))
    if notified := [o for o in outcomes if o.scenario.startswith("notify-")]:
        Console(width=max(console.width, 160)).print(notify_table(notified))
    for o in outcomes:
        if o.detail["types_differ"]:
            console.print(
                f"{o.scenario}: {len(o.detail['types_differ'])} published type(s) differ with equal windows: "
                "the step sits inside the hysteresis band, where the type depends on the order batches came in"
            )
    output.mkdir(parents=True, exist_ok=True)
    path = output / f"chaos-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"options": asdict(options), "outcomes": [asdict(o) for o in outcomes]}, indent=2))
    console.print(f"chaos: results in {path}")
    return path
