"""Domain checks on a decoded input record: a reason for `dead-letters`, or None."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from processors.states import SCALES
from processors.taxonomy import Taxonomy

# Exports replayed from years back are fine; a clock far ahead of ours is not.
EARLIEST = datetime(2000, 1, 1).timestamp()
MAX_CLOCK_SKEW = 86400.0


@dataclass(frozen=True)
class Rejection:
    reason: str  # one of the DeadLetter schema's reasons
    detail: str


def event_seconds(record: dict[str, Any]) -> float:
    """The event time in epoch seconds (a datetime, or epoch milliseconds); may raise OverflowError
    for a number no float holds: `_common` checks it first."""
    value = record["event_time"]
    return value.timestamp() if isinstance(value, datetime) else float(value) / 1000


def _event_seconds_or_none(record: dict[str, Any]) -> float | None:
    """None for a time no clock holds: milliseconds beyond a float, a date its platform cannot convert."""
    try:
        return event_seconds(record)
    except (OverflowError, OSError, ValueError):
        return None


def _common(record: dict[str, Any], kind: str, taxonomy: Taxonomy, now: float) -> Rejection | None:
    text = record["verbatim"]
    if not text.strip():
        return Rejection("empty_verbatim", f"{kind}.verbatim is empty")
    limit = taxonomy.thresholds.max_verbatim_chars
    if len(text) > limit:
        return Rejection("verbatim_too_long", f"{kind}.verbatim has {len(text)} characters, limit {limit}")
    seconds = _event_seconds_or_none(record)
    if seconds is None or not EARLIEST <= seconds <= now + MAX_CLOCK_SKEW:
        return Rejection(
            "event_time_out_of_range",
            f"{kind}.event_time {record['event_time']} is before 2000 or more than a day ahead",
        )
    journey = record.get("journey_id")
    if journey is not None and taxonomy.journey(journey) is None:
        return Rejection(
            "unknown_journey",
            f"{kind}.journey_id {journey!r} not in the taxonomy ({', '.join(taxonomy.journeys)})",
        )
    return None


def _step(record: dict[str, Any], kind: str, taxonomy: Taxonomy) -> Rejection | None:
    """A step, when given, must be one of the record's journey (known: `_common` checked it)."""
    step = record.get("step_id")
    if step is None:
        return None
    journey_id = record.get("journey_id")
    if journey_id is None:
        return Rejection("unknown_step", f"{kind}.step_id {step!r} needs a journey_id (a step is one of a journey's)")
    journey = taxonomy.journeys[journey_id]
    if journey.step(step) is None:
        return Rejection("unknown_step", f"{kind}.step_id {step!r} is not a step of {journey.id}")
    return None


def check_survey_response(record: dict[str, Any], taxonomy: Taxonomy, now: float) -> Rejection | None:
    low, high = SCALES[record["score_scale"]]
    if not low <= record["score"] <= high:
        return Rejection(
            "score_out_of_range",
            f"SurveyResponse.score {record['score']} not in {low}..{high} ({record['score_scale']})",
        )
    return _common(record, "SurveyResponse", taxonomy, now) or _step(record, "SurveyResponse", taxonomy)


def check_staff_feedback(record: dict[str, Any], taxonomy: Taxonomy, now: float) -> Rejection | None:
    return _common(record, "StaffFeedback", taxonomy, now) or _step(record, "StaffFeedback", taxonomy)
