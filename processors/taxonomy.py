"""The journey taxonomy: journeys, their steps, cues, measurement points and thresholds.

Loaded from YAML (`processors/journeys/*.yaml` by default, or the file or folder
named by MIROIR_THRESHOLDS_FILE). Steps are declared once and shared between
journeys by id, as "Retrait / pickup" is between home delivery and click & collect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from processors.text import fold

DEFAULT_DIR = Path(__file__).parent / "journeys"


class TaxonomyError(ValueError):
    """The taxonomy file is wrong; the message names the file and the entry."""


@dataclass(frozen=True)
class Thresholds:
    min_customer_n: int = 5
    min_staff_total: int = 5
    min_staff_share: float = 0.05
    min_staff_n: int = 2
    enchanted_at: float = 0.15
    dissatisfied_at: float = -0.15
    engaged_at: float = 0.15
    frustrated_at: float = -0.15
    hysteresis: float = 0.07
    moment_of_truth_share: float = 0.2
    moment_of_truth_impact: float = 0.3
    alert_impact: float = -0.3
    evidence_ids: int = 5
    max_verbatim_chars: int = 5000


@dataclass(frozen=True)
class MeasurementPoint:
    """A survey tied to a step; below its own threshold a customer is called back."""

    nps_threshold: int
    csat_threshold: int
    sla_hours: float | None = None

    def is_below(self, score: int, scale: str) -> bool:
        return score < (self.nps_threshold if scale == "NPS" else self.csat_threshold)


@dataclass(frozen=True)
class CallbackPolicy:
    """Callback SLAs (default, per site; a measurement point may set its own) and anti-over-solicitation."""

    sla_hours: float = 48.0
    sla_hours_by_site: tuple[tuple[str, float], ...] = ()
    negative_text_at: float = -0.5  # text polarity at or below asks for a callback whatever the score
    quiet_days: float = 30.0

    def sla_for(self, site: str, point_hours: float | None) -> timedelta:
        by_site = dict(self.sla_hours_by_site)
        hours = by_site.get(site, point_hours if point_hours is not None else self.sla_hours)
        return timedelta(hours=hours)


@dataclass(frozen=True)
class Step:
    id: str
    label: dict[str, str]
    cues: dict[str, tuple[str, ...]]
    measurement_point: MeasurementPoint | None = None
    alert_impact: float | None = None


@dataclass(frozen=True)
class Mention:
    """A cue of a step found in folded text, at [start, end)."""

    step_id: str
    start: int
    end: int


@dataclass(frozen=True)
class Journey:
    id: str
    label: dict[str, str]
    steps: tuple[Step, ...]
    _matcher: re.Pattern[str] = field(repr=False, compare=False)

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def all_mentions(self, folded: str) -> list[Mention]:
        """Every cue occurrence, in order (several per step possible)."""
        return [
            Mention(self.steps[int(str(m.lastgroup)[1:])].id, m.start(), m.end())
            for m in self._matcher.finditer(folded)
        ]


@dataclass(frozen=True)
class Taxonomy:
    journeys: dict[str, Journey]
    thresholds: Thresholds
    callbacks: CallbackPolicy = CallbackPolicy()

    def journey(self, journey_id: str) -> Journey | None:
        return self.journeys.get(journey_id)


def cue_pattern(cue: str) -> str:
    """'livr*' -> r'livr\\w*', 'service client*' -> r'service[\\s'-]+client\\w*', accents folded."""
    words = [re.escape(w).replace(r"\*", r"\w*") for w in re.split(r"[\s'-]+", fold(cue.strip())) if w]
    if not words:
        raise TaxonomyError(f"empty cue {cue!r}")
    return r"\b" + r"[\s'-]+".join(words) + r"(?!\w)"


def _journey(journey_id: str, spec: dict[str, Any], steps: dict[str, Step], source: str) -> Journey:
    try:
        chosen = tuple(steps[s] for s in spec["steps"])
    except KeyError as missing:
        raise TaxonomyError(f"{source}: journey {journey_id!r} names unknown step {missing}") from None
    alternatives = [
        f"(?P<s{i}>{'|'.join(cue_pattern(c) for lang in step.cues.values() for c in lang)})"
        for i, step in enumerate(chosen)
    ]
    return Journey(journey_id, dict(spec.get("label", {})), chosen, re.compile("|".join(alternatives)))


def _step(step_id: str, spec: dict[str, Any], source: str) -> Step:
    cues = {lang: tuple(str(c) for c in spec.get("cues", {}).get(lang, [])) for lang in ("fr", "en")}
    if not cues["fr"] or not cues["en"]:
        raise TaxonomyError(f"{source}: step {step_id!r} needs both fr and en cues")
    point = spec.get("measurement_point")
    measurement = None
    if point is not None:
        threshold = point.get("threshold", {})
        sla = point.get("sla_hours")
        measurement = MeasurementPoint(
            int(threshold.get("nps", 7)),
            int(threshold.get("csat", 4)),
            float(sla) if sla is not None else None,
        )
    alert = spec.get("alert_impact")
    return Step(step_id, dict(spec.get("label", {})), cues, measurement, float(alert) if alert is not None else None)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.yaml"))
    if path.exists():
        return [DEFAULT_DIR / "thresholds.yaml", path]
    raise TaxonomyError(f"taxonomy file {path} does not exist")


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Merge the YAML files of a folder (or one file over the default thresholds)."""
    steps: dict[str, Step] = {}
    journey_specs: dict[str, tuple[dict[str, Any], str]] = {}
    threshold_values: dict[str, Any] = {}
    callback_values: dict[str, Any] = {}
    known = {f.name for f in fields(Thresholds)}
    for file in _files(path or DEFAULT_DIR):
        document = yaml.safe_load(file.read_text()) or {}
        for step_id, spec in (document.get("steps") or {}).items():
            steps[step_id] = _step(step_id, spec, file.name)
        for journey_id, spec in (document.get("journeys") or {}).items():
            journey_specs[journey_id] = (spec, file.name)
        for name, value in (document.get("thresholds") or {}).items():
            if name not in known:
                raise TaxonomyError(f"{file.name}: unknown threshold {name!r}; known: {sorted(known)}")
            threshold_values[name] = value
        for name, value in (document.get("callbacks") or {}).items():
            callback_values[name] = tuple(value.items()) if isinstance(value, dict) else value
    if not journey_specs:
        raise TaxonomyError(f"no journeys in {path or DEFAULT_DIR}")
    journeys = {jid: _journey(jid, spec, steps, src) for jid, (spec, src) in journey_specs.items()}
    try:
        callbacks = CallbackPolicy(**callback_values)
    except TypeError as error:
        raise TaxonomyError(f"callbacks: {error}") from None
    return Taxonomy(journeys, Thresholds(**threshold_values), callbacks)
