"""Reads the mirror from a worker's web server and shows it as rich tables."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from rich.console import Group
from rich.table import Table

from config.settings import settings
from processors.mirror_types import BY_ID
from processors.taxonomy import Taxonomy


class WorkerUnavailable(RuntimeError):
    pass


def fetch(url: str, path: str, timeout: float = 5.0) -> dict[str, Any]:
    request = urllib.request.Request(url.rstrip("/") + path)
    if settings.pipeline.web_token:
        request.add_header("Authorization", f"Bearer {settings.pipeline.web_token.get_secret_value()}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return dict(json.load(response))
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise WorkerUnavailable(
            f"no Miroir worker answers at {url} ({error}); start one with `miroir worker` or set MIROIR_WEB_PORT"
        ) from error


def states_by_journey(states: list[dict[str, Any]], window: str) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for state in states:
        if state["window"] == window:
            out.setdefault(state["journey_id"], {})[state["step_id"]] = state
    return out


def _side(side: dict[str, Any]) -> str:
    return f"{side['n']:>4}  {side['net_impact']:+.2f}  {side['state']}"


def mirror_tables(
    states: list[dict[str, Any]],
    taxonomy: Taxonomy,
    window: str = "live",
    journey: str | None = None,
    language: str = "en",
) -> Group:
    tables = []
    for journey_id, steps in sorted(states_by_journey(states, window).items()):
        if journey and journey_id != journey:
            continue
        spec = taxonomy.journeys.get(journey_id)
        title = spec.label.get(language, journey_id) if spec else journey_id
        table = Table(title=f"{title} — {window} window", title_justify="left", expand=False)
        for column in ("step", "type", "customers  n  net  state", "staff  n  net  state", "MoT"):
            table.add_column(column)
        order = [s.id for s in spec.steps] if spec else sorted(steps)
        for step_id in order:
            state = steps.get(step_id)
            if state is None:
                continue
            step = spec.step(step_id) if spec else None
            kind = BY_ID.get(state["mirror_type"])
            table.add_row(
                step.label.get(language, step_id) if step else step_id,
                f"[{kind.colour}]{kind.label(language)}[/]" if kind else state["mirror_type"],
                _side(state["customer"]),
                _side(state["staff"]),
                "★" if state["moment_of_truth"] else "",
            )
        tables.append(table)
    return Group(*tables)


def callback_table(callbacks: dict[str, Any]) -> Table:
    table = Table(
        "site",
        "step",
        "open",
        "overdue",
        "resolved",
        "within SLA",
        "median h to callback",
        title=f"Callbacks (queue {callbacks.get('queue', '?')}"
        + (f" since {callbacks['stale_since']})" if callbacks.get("stale_since") else ")"),
        title_justify="left",
    )
    for key, f in sorted(callbacks.get("by_site_step", {}).items()):
        site, step = key.split("|", 1)
        pct = f.get("within_sla_pct")
        hours = f.get("median_hours_to_callback")
        table.add_row(
            site,
            step,
            str(f.get("open", 0)),
            str(f.get("overdue", 0)),
            str(f.get("resolved", 0)),
            "-" if pct is None else f"{pct} %",
            "-" if hours is None else str(hours),
        )
    return table


def totals_line(counters: dict[str, Any]) -> str:
    """The counters in one line, reconciled: in = processed + dead-lettered + duplicates (+ erased)."""
    dead = counters.get("dead_lettered", 0)
    by_reason = counters.get("dead_letters_by_reason") or {}
    return (
        f"in {counters.get('in', 0)} = processed {counters.get('processed', 0)} + dead-lettered {dead}"
        + (f" {by_reason}" if by_reason else "")
        + f" + duplicates {counters.get('duplicate', 0)}"
        + (f" + erased {counters['erased']}" if counters.get("erased") else "")
        + f"; untagged {counters.get('untagged', 0)}, "
        f"not keyed by their id {counters.get('unkeyed', 0)}"
    )


def summary(states: list[dict[str, Any]], counters: dict[str, Any]) -> dict[str, Any]:
    """The demo's JSON summary: per journey and step, type and both sides; totals."""
    journeys: dict[str, Any] = {}
    for journey_id, steps in states_by_journey(states, "live").items():
        journeys[journey_id] = {
            step_id: {
                "mirror_type": s["mirror_type"],
                "moment_of_truth": s["moment_of_truth"],
                "customer": {
                    k: s["customer"][k] for k in ("n", "net_impact", "positive_impact", "negative_impact", "state")
                },
                "staff": {k: s["staff"][k] for k in ("n", "net_impact", "positive_impact", "negative_impact", "state")},
            }
            for step_id, s in steps.items()
        }
    totals = {k: counters.get(k, 0) for k in ("in", "processed", "dead_lettered", "duplicate", "untagged", "unkeyed")}
    totals["dead_letters_by_reason"] = counters.get("dead_letters_by_reason", {})
    return {"journeys": journeys, "totals": totals}
