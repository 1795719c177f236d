"""Who gets called back, how urgently, by when, and the queue's admission rules.

A survey response asks for a callback when its customer consented, left a
way to reach them, and is dissatisfied: a score below the measurement point's
own threshold (after-sales may be lower than pre-sales), or a strongly
negative text. No over-solicitation: one open callback per customer, a quiet
period after one is closed, and the same response never twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median
from typing import Any

from processors.offsets import add, as_ranges
from processors.taxonomy import CallbackPolicy, Taxonomy


def callback_id(response_id: str) -> str:
    """Derived from the response, so a replay or a restart never makes a second callback."""
    return f"cb-{response_id}"


def wants_callback(
    record: dict[str, Any], text_polarity: float, taxonomy: Taxonomy, policy: CallbackPolicy
) -> str | None:
    """Why this response asks for a callback ('score' or 'text'), or None. The score is below its
    measurement point's threshold or, without one, the policy's `default_threshold`."""
    contact = record.get("contact") or {}
    if not record.get("callback_consent") or not (contact.get("phone") or contact.get("email")):
        return None
    step = taxonomy.journeys[record["journey_id"]].step(record.get("step_id") or "")
    point = step.measurement_point if step else None
    threshold = point.threshold if point else policy.default_threshold
    if record["score"] < threshold.of(record["score_scale"]):
        return "score"
    if text_polarity <= policy.negative_text_at:
        return "text"
    return None


def priority(record: dict[str, Any], text_polarity: float, policy: CallbackPolicy) -> str:
    """'high' for a very low score or a very negative text, else 'normal'."""
    very_low = record["score"] <= policy.high_priority_score_at.of(record["score_scale"])
    return "high" if very_low or text_polarity <= policy.high_priority_text_at else "normal"


def callback_request(
    record: dict[str, Any], text_polarity: float, taxonomy: Taxonomy, policy: CallbackPolicy, now: datetime
) -> dict[str, Any] | None:
    """The CallbackRequest record for this response, or None when it needs no callback."""
    if wants_callback(record, text_polarity, taxonomy, policy) is None:
        return None
    journey = taxonomy.journeys[record["journey_id"]]
    step = journey.step(record["step_id"]) if record.get("step_id") else None
    point_hours = step.measurement_point.sla_hours if step and step.measurement_point else None
    contact = record["contact"]
    return {
        "callback_id": callback_id(record["response_id"]),
        "response_id": record["response_id"],
        "customer_ref": record["customer_ref"],
        "contact": {
            "name": contact.get("name"),
            "email": contact.get("email"),
            "phone": contact.get("phone"),
        },
        "site": record["site"],
        "journey_id": record["journey_id"],
        "step_id": record.get("step_id"),
        "score": record["score"],
        "score_scale": record["score_scale"],
        "verbatim": record["verbatim"],
        "priority": priority(record, text_polarity, policy),
        "created_at": now,
        "due_at": now + policy.sla_for(record["site"], point_hours),
    }


# ---------------------------------------------------------------- queue rules


@dataclass(frozen=True)
class CustomerHistory:
    """What the queue knows of a customer: an open callback, or when the last one closed."""

    open_callback: str | None = None
    closed_at: float | None = None  # epoch seconds


def admission(callback: str, already_known: bool, history: CustomerHistory, now: float, quiet_days: float) -> str:
    """'admit', or why not: 'duplicate', 'customer_has_open_callback', 'quiet_period'."""
    if already_known:
        return "duplicate"
    if history.open_callback and history.open_callback != callback:
        return "customer_has_open_callback"
    if history.closed_at is not None and now < history.closed_at + quiet_days * 86400:
        return "quiet_period"
    return "admit"


def is_overdue(due_at: float, resolved: bool, now: float) -> bool:
    return not resolved and now > due_at


def within_sla(resolved_at: float, due_at: float) -> bool:
    return resolved_at <= due_at


def add_outcome(loop: dict[str, Any], outcome: dict[str, Any], source: str, offset: int, kept: int) -> dict[str, Any]:
    """The site/step's closed-loop tally with this outcome counted, once: "counted" keeps, per
    outcomes partition, the offsets counted, so a redelivered outcome changes nothing."""
    counted = {s: as_ranges(v) for s, v in loop.get("counted", {}).items()}
    if not add(counted.setdefault(source, []), offset):
        return loop
    return {
        "resolved": loop.get("resolved", 0) + 1,
        "within_sla": loop.get("within_sla", 0) + int(outcome["within_sla"]),
        "durations": [*loop.get("durations", []), epoch(outcome["resolved_at"]) - epoch(outcome["created_at"])][-kept:],
        "counted": counted,
    }


def loop_metrics(durations: list[float], within: int, resolved: int) -> dict[str, Any]:
    """Closed-loop figures of a site and step: resolved within SLA (%), median time to callback (h)."""
    return {
        "resolved": resolved,
        "within_sla_pct": round(100 * within / resolved, 1) if resolved else None,
        "median_hours_to_callback": round(median(durations) / 3600, 2) if durations else None,
    }


def epoch(value: datetime | float) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
