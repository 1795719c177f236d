"""The pipeline's domain steps on decoded records: observe into tallies, evaluate into mirrors.

`observe_*` turn one input record into counts of a per-journey `JourneyTally`
(a batch makes one delta per journey). `evaluate` turns a journey's running
tally into `MirrorState` and `StepAlert` records. No I/O; time is passed in.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from processors.analysis import Analysis, analyse, read, steps_of
from processors.mirror import Classification, alert_kinds, classify
from processors.offsets import Ranges, add, as_ranges
from processors.privacy import pseudonym, subjects_of
from processors.redact import redact
from processors.states import customer_mention_polarity, staff_mention_polarity
from processors.taxonomy import Taxonomy
from processors.validation import Rejection, event_seconds
from processors.windows import JourneyTally, SideView, Sighting, WindowSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineConfig:
    taxonomy: Taxonomy
    windows: tuple[WindowSpec, ...]
    # The subject hashes' key (processors/privacy.py): evidence carries who it is about, so that an
    # erasure can find it. Empty: evidence names nobody (unit tests).
    secret: bytes = b""
    # A staff story is evidence only once its site has had this many tellers (PrivacySettings.min_staff).
    min_staff: int = 1


@dataclass(frozen=True)
class Observation:
    tagged: bool  # at least one step mentioned (or a measurement point)
    polarity: float  # of the whole verbatim


def _evidence(analysis: Analysis) -> dict[str, str]:
    """What the wallboard may show of each step's clause: PII redacted here, before it leaves."""
    return {step.step_id: redact(step.evidence) for step in analysis.steps}


# journey id -> what a batch saw of it: one sighting per (verbatim, journey).
Sightings = dict[str, list[Sighting]]
Origin = tuple[str, int]  # ("topic:partition", offset)


def _sight(
    sightings: Sightings,
    journey_id: str,
    origin: Origin,
    side: str,
    record: dict[str, Any],
    verbatim_id: str,
    polarities: dict[str, float],
    analysis: Analysis,
    subjects: list[str],
    teller: tuple[str, str] | None = None,
) -> None:
    sighting: Sighting = {
        "source": origin[0],
        "offset": origin[1],
        "side": side,
        "at": event_seconds(record),
        "id": verbatim_id,
        "steps": polarities,
        "texts": _evidence(analysis),
        "subjects": subjects,
    }
    if teller is not None:  # a staff story: its site and its teller's pseudonym (processors/windows.py)
        sighting["site"], sighting["staff"] = teller
    sightings.setdefault(journey_id, []).append(sighting)


def observe_survey_response(
    record: dict[str, Any], config: PipelineConfig, deltas: Sightings, origin: Origin
) -> Observation:
    """Count one customer response."""
    journey = config.taxonomy.journeys[record["journey_id"]]
    analysis = analyse(record["verbatim"], journey, record.get("language"), record.get("step_id"))
    score, scale, policy = record["score"], record["score_scale"], config.taxonomy.states
    polarities = {step.step_id: customer_mention_polarity(step, score, scale, policy) for step in analysis.steps}
    subjects = sorted(subjects_of(record, config.secret)) if config.secret else []
    _sight(deltas, journey.id, origin, "customer", record, record["response_id"], polarities, analysis, subjects)
    return Observation(analysis.tagged, analysis.polarity)


def observe_staff_feedback(
    record: dict[str, Any], config: PipelineConfig, deltas: Sightings, origin: Origin
) -> Observation:
    """Count one staff story, against its journey or, when it names none, every journey; the step
    the person picked (only with a journey) is counted even when the text is silent on it, as a
    survey's measurement point is."""
    journeys = (
        [config.taxonomy.journeys[record["journey_id"]]]
        if record.get("journey_id")
        else list(config.taxonomy.journeys.values())
    )
    tagged, polarity = False, 0.0
    teller = (record["site"], pseudonym(record["staff_ref"], config.secret))  # once, not per journey
    reading = read(record["verbatim"], record.get("language"))  # once, whatever the number of journeys
    for journey in journeys:
        analysis = steps_of(reading, journey, record.get("step_id"))
        polarities = {
            s.step_id: staff_mention_polarity(s.polarity, record["prompt"], config.taxonomy.states)
            for s in analysis.steps
        }
        _sight(deltas, journey.id, origin, "staff", record, record["feedback_id"], polarities, analysis, [], teller)
        tagged, polarity = tagged or analysis.tagged, analysis.polarity
    return Observation(tagged, polarity)


Check = Callable[[dict[str, Any], Taxonomy, float], Rejection | None]
Observe = Callable[[dict[str, Any], PipelineConfig, Sightings, Origin], Observation]


def take_input(
    record: dict[str, Any],
    check: Check,
    observe: Observe,
    config: PipelineConfig,
    deltas: Sightings,
    now: float,
    origin: Origin,
) -> Rejection | Observation:
    """Check and observe one decoded input. Never raises: whatever is wrong with it comes back
    as a Rejection with its reason, for dead-letters."""
    try:
        rejection = check(record, config.taxonomy, now)
        return rejection if rejection is not None else observe(record, config, deltas, origin)
    except Exception as error:  # a poison message must not stop the agent
        log.exception("could not analyse an input")
        return Rejection("other", f"{type(error).__name__}: {error}")


def count_once(inputs: list[list[Any]], counted: dict[str, Ranges]) -> Counter[str]:
    """Counter increments for [source, offset, names] entries, skipping any input its source's
    ranges say was counted already; `counted` is updated."""
    counts: Counter[str] = Counter()
    for source, offset, names in inputs:
        if add(counted.setdefault(source, []), offset):
            counts.update(names)
    return counts


def add_inputs(counters: dict[str, Any], inputs: list[list[Any]]) -> dict[str, Any]:
    """The pipeline's counters with a batch's inputs added, each once. The counts and the offsets
    counted live in one value, written at once: a crash between two writes cannot leave one
    ahead of the other (and an input delivered again after it counted twice, or never)."""
    counted = {source: as_ranges(v) for source, v in counters.get("counted", {}).items()}
    counts = Counter(counters.get("counts", {}))
    counts.update(count_once(inputs, counted))
    return {"counts": dict(counts), "counted": counted}


def _millis(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _side(view: SideView, state: str) -> dict[str, Any]:
    return {
        "n": view.n,
        "share": round(view.share, 4),
        "positive_impact": round(view.positive_impact, 4),
        "negative_impact": round(view.negative_impact, 4),
        "net_impact": round(view.net_impact, 4),
        "state": state,
    }


def _alert_id(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:20]


def evaluate(
    journey_id: str, tally: JourneyTally, config: PipelineConfig, now: float, snapshot: bool = False
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Classify every step of the journey in every window.

    Returns the MirrorState records to publish (those whose type, states or
    moment-of-truth flag changed; all of them when `snapshot`) and the
    StepAlert records. Updates `tally.classified` for the next call.
    """
    journey = config.taxonomy.journeys[journey_id]
    states: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    for window in config.windows:
        for step in journey.steps:
            key = f"{window.name}|{step.id}"
            previous = Classification.from_dict(tally.classified.get(key))
            customer = tally.view(window, "customer", step.id)
            staff = tally.view(window, "staff", step.id)
            current = classify(customer, staff, previous, config.taxonomy.thresholds, step.alert_impact)
            tally.classified[key] = current.to_dict()
            if snapshot or previous is None or _changed(previous, current):
                states.append(
                    {
                        "journey_id": journey_id,
                        "step_id": step.id,
                        "window": window.name,
                        "window_start": _millis(max(tally.watermark - window.size, 0)),
                        "window_end": _millis(tally.watermark),
                        "customer": _side(customer, current.customer_state),
                        "staff": _side(staff, current.staff_state),
                        "mirror_type": current.mirror_type,
                        "moment_of_truth": current.moment_of_truth,
                        "evidence_ids": [
                            verbatim_id
                            for side in ("customer", "staff")
                            for verbatim_id, *_ in tally.evidence.get(f"{side}|{step.id}", [])
                        ],
                        "reason": "snapshot" if snapshot else "change",
                        "computed_at": _millis(now),
                    }
                )
            for kind in alert_kinds(previous, current):
                alerts.append(
                    {
                        "alert_id": _alert_id(
                            journey_id, step.id, window.name, kind, current.mirror_type, tally.watermark
                        ),
                        "journey_id": journey_id,
                        "step_id": step.id,
                        "window": window.name,
                        "kind": kind,
                        "mirror_type": current.mirror_type,
                        "previous_type": previous.mirror_type if previous else None,
                        "customer_net_impact": round(customer.net_impact, 4),
                        "customer_n": customer.n,
                        "staff_n": staff.n,
                        "at": _millis(now),
                    }
                )
    return states, alerts


def _changed(previous: Classification, current: Classification) -> bool:
    return (
        previous.mirror_type,
        previous.customer_state,
        previous.staff_state,
        previous.moment_of_truth,
    ) != (current.mirror_type, current.customer_state, current.staff_state, current.moment_of_truth)
