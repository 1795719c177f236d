"""Prometheus metrics at /metrics: faust's own sensor plus Miroir's per-step series.

Labels are bounded: journey, step, side, window (from the taxonomy), type (8),
reason (the dead-letter enum), kind (4 alert kinds), site (the sites seen).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from faust.sensors.prometheus import setup_prometheus_sensors
from prometheus_client import REGISTRY, Counter, Gauge, Histogram

from processors.mirror_types import LABELS
from streams.app import app

setup_prometheus_sensors(app, pattern="/metrics", registry=REGISTRY, name_prefix="faust")

MIRROR_TYPES = list(LABELS)  # win_win ... insufficient_data
# The type as a number, for Grafana's state timeline (value mappings in the dashboards).
TYPE_CODES = {name: code for code, name in enumerate(MIRROR_TYPES)}

STEP_MENTIONS = Gauge(
    "miroir_step_mentions", "Mentions of the step in the window", ["journey", "step", "side", "window"]
)
STEP_SHARE = Gauge(
    "miroir_step_occurrence_share",
    "Share of the side's verbatims that mention the step",
    ["journey", "step", "side", "window"],
)
STEP_NET_IMPACT = Gauge(
    "miroir_step_net_impact",
    "Net impact (mean polarity) of the step's mentions",
    ["journey", "step", "side", "window"],
)
STEP_TYPE = Gauge(
    "miroir_step_type",
    "1 for the step's current mirror type, 0 for the others",
    ["journey", "step", "window", "type"],
)
STEP_TYPE_CODE = Gauge(
    "miroir_step_type_code",
    "The step's mirror type as a number: " + ", ".join(f"{c}={n}" for n, c in TYPE_CODES.items()),
    ["journey", "step", "window"],
)
STEP_MOMENT_OF_TRUTH = Gauge(
    "miroir_step_moment_of_truth", "1 when the step is a moment of truth", ["journey", "step", "window"]
)
STEP_ALERTS = Counter("miroir_step_alerts", "Step alerts published", ["journey", "step", "kind"])
EVENTS = Counter(
    "miroir_events",
    "Input events by outcome: in = processed + dead_lettered + duplicate + erased; untagged and unkeyed are "
    "shares of them (no step mentioned; Kafka key not the business id)",
    ["outcome"],
)
for _outcome in ("in", "processed", "dead_lettered", "duplicate", "erased", "untagged", "unkeyed"):
    EVENTS.labels(_outcome)  # every series exists from the start, at 0: a rate of duplicates reads 0, not "no data"
REMEMBERED_IDS = Gauge(
    "miroir_remembered_ids", "Business ids this worker holds to recognise duplicates (as of its last sweep)"
)
PURGED = Counter(
    "miroir_purged", "Callbacks cut by the retention purge: contact (details removed), case (anonymised)", ["kind"]
)
DEAD_LETTERS = Counter("miroir_dead_letters", "Inputs sent to dead-letters", ["reason"])
CALLBACKS_REQUESTED = Counter("miroir_callbacks_requested", "Callback requests published", ["site"])
CALLBACKS_OPEN = Gauge("miroir_callbacks_open", "Unresolved callbacks in the queue", ["site"])
CALLBACKS_OVERDUE = Gauge("miroir_callbacks_overdue", "Unresolved callbacks past their due time", ["site"])
CALLBACKS_WITHIN_SLA = Gauge("miroir_callbacks_within_sla_ratio", "Resolved callbacks closed within SLA", ["site"])
CALLBACK_ESCALATIONS = Counter("miroir_callback_escalations", "Callbacks escalated", ["site"])
LATENCY = Histogram(
    "miroir_processing_latency_seconds",
    "From the message's Kafka timestamp to its analysis",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


MIRROR_LATENCY = Histogram(
    "miroir_produce_to_mirror_seconds",
    "From an input's Kafka timestamp to the mirror that counts it",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
# The latest latencies themselves, for exact percentiles in `miroir bench` (GET /latency/).
recent_mirror_latencies: deque[float] = deque(maxlen=200_000)


def record_mirror_latency(latencies: list[float]) -> None:
    for latency in latencies:
        MIRROR_LATENCY.observe(latency)
    recent_mirror_latencies.extend(latencies)


def record_states(states: list[dict[str, Any]]) -> None:
    for s in states:
        journey, step, window = s["journey_id"], s["step_id"], s["window"]
        for side in ("customer", "staff"):
            STEP_MENTIONS.labels(journey, step, side, window).set(s[side]["n"])
            STEP_SHARE.labels(journey, step, side, window).set(s[side]["share"])
            STEP_NET_IMPACT.labels(journey, step, side, window).set(s[side]["net_impact"])
        for name in MIRROR_TYPES:
            STEP_TYPE.labels(journey, step, window, name).set(int(name == s["mirror_type"]))
        STEP_TYPE_CODE.labels(journey, step, window).set(TYPE_CODES[s["mirror_type"]])
        STEP_MOMENT_OF_TRUTH.labels(journey, step, window).set(int(s["moment_of_truth"]))


def record_alerts(alerts: list[dict[str, Any]]) -> None:
    for a in alerts:
        STEP_ALERTS.labels(a["journey_id"], a["step_id"], a["kind"]).inc()


def record_counts(counts: dict[str, int]) -> None:
    """A batch's counter names as miroir_events{outcome} ("dead:<reason>" as dead_lettered and
    miroir_dead_letters{reason}). Per batch taken: exact counts are the worker's /counters/."""
    for name, n in counts.items():
        if name.startswith("dead:"):
            DEAD_LETTERS.labels(name.removeprefix("dead:")).inc(n)
            EVENTS.labels("dead_lettered").inc(n)
        else:
            EVENTS.labels(name).inc(n)


def record_callback_figures(by_site_step: dict[str, dict[str, Any]]) -> None:
    sites: dict[str, dict[str, float]] = {}
    for key, f in by_site_step.items():
        cell = sites.setdefault(key.split("|", 1)[0], {"open": 0, "overdue": 0, "resolved": 0, "within": 0})
        cell["open"] += f.get("open", 0)
        cell["overdue"] += f.get("overdue", 0)
        cell["resolved"] += f.get("resolved", 0)
        cell["within"] += f.get("resolved", 0) * (f.get("within_sla_pct") or 0) / 100
    for site, cell in sites.items():
        CALLBACKS_OPEN.labels(site).set(cell["open"])
        CALLBACKS_OVERDUE.labels(site).set(cell["overdue"])
        if cell["resolved"]:
            CALLBACKS_WITHIN_SLA.labels(site).set(cell["within"] / cell["resolved"])


NOTIFICATIONS = Counter(
    "miroir_notifications",
    "Notifications to managers by channel (email, slack, teams, json) and result: queued (a delivery "
    "made), sent, retried (the endpoint failed, tried again later), failed (given up, reason logged)",
    ["channel", "result"],
)
NOTIFY_EVENTS = Counter(
    "miroir_notification_events",
    "Outbox events (admissions, escalations) taken by the notifier, by outcome: expanded, nobody (no "
    "recipient wants it), nothing_to_send (no channel configured), missing (callback not in the queue)",
    ["outcome"],
)
NOTIFY_PENDING = Gauge(
    "miroir_notifications_pending", "Deliveries waiting: due, held for quiet hours or a digest, or retrying"
)


def record_notifications(tally: dict[tuple[str, str], int]) -> None:
    for (channel, result), n in tally.items():
        if channel == "events":
            NOTIFY_EVENTS.labels(result).inc(n)
        else:
            NOTIFICATIONS.labels(channel, result).inc(n)
