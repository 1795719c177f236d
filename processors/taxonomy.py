"""The journey taxonomy: journeys, their steps, cues, measurement points, and the mirror's numbers.

Loaded from YAML: the shipped journeys (`processors/journeys/*.yaml`), then the
file or folder named by MIROIR_THRESHOLDS_FILE, which adds to them (or replaces
them with MIROIR_JOURNEYS_ONLY=true). Steps are declared once and shared between
journeys by id, as "Retrait / pickup" is between home delivery and click &
collect; a step or journey id declared in two files is an error naming both.

Every number of the classification, the states and the callbacks is a field of
`processors/journeys/thresholds.yaml`, read first; the dataclasses below have no
defaults of their own, so a field missing there is an error naming it. Any
file read after it (a journey file, the file or folder named) may override any
field. `check_taxonomy` lists what loads but is likely a mistake (cues two steps
of one journey share, missing labels, steps no journey uses): `miroir journeys check`.

Long on purpose: the taxonomy's types and the one reader of its YAML, which only make sense together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

import yaml

from processors.cues import CueError, CueMatcher, cue_words
from processors.text import read_words

DEFAULT_DIR = Path(__file__).parent / "journeys"
DEFAULTS = DEFAULT_DIR / "thresholds.yaml"


class TaxonomyError(ValueError):
    """The taxonomy file is wrong; the message names the file and the entry."""


@dataclass(frozen=True)
class Thresholds:
    """The mirror's classification of a step (processors/mirror.py)."""

    min_customer_n: int
    min_staff_total: int
    min_staff_share: float
    min_staff_n: int
    enchanted_at: float
    dissatisfied_at: float
    engaged_at: float
    frustrated_at: float
    hysteresis: float
    moment_of_truth_share: float
    moment_of_truth_impact: float
    alert_impact: float
    evidence_ids: int
    max_verbatim_chars: int


@dataclass(frozen=True)
class PerScale:
    """One score per scale: NPS (0-10) and CSAT (1-5)."""

    nps: int
    csat: int

    def of(self, scale: str) -> int:
        return self.nps if scale == "NPS" else self.csat


@dataclass(frozen=True)
class MeasurementPoint:
    """A survey tied to a step; below its own threshold a customer is called back."""

    threshold: PerScale
    sla_hours: float | None  # None: the callbacks' SLA

    def is_below(self, score: int, scale: str) -> bool:
        return score < self.threshold.of(scale)


@dataclass(frozen=True)
class CallbackPolicy:
    """Who is called back, how urgently, by when (default, per site; a measurement point may set
    its own SLA), and anti-over-solicitation."""

    sla_hours: float
    sla_hours_by_site: tuple[tuple[str, float], ...]
    negative_text_at: float  # text polarity at or below asks for a callback whatever the score
    quiet_days: float
    high_priority_text_at: float  # text polarity at or below -> priority high
    high_priority_score_at: PerScale  # a score at or below -> priority high
    default_threshold: PerScale  # below it, without a measurement point (or for a scale it leaves out)

    def sla_for(self, site: str, point_hours: float | None) -> timedelta:
        by_site = dict(self.sla_hours_by_site)
        hours = by_site.get(site, point_hours if point_hours is not None else self.sla_hours)
        return timedelta(hours=hours)


@dataclass(frozen=True)
class StatePolicy:
    """How a respondent's state and each of their step mentions are scored (processors/states.py)."""

    text_override_at: float  # |text polarity| at or above moves the customer's state one notch
    staff_state_at: float  # a story's polarity at or above -> engaged, at or below minus it -> frustrated
    cued_clause_weight: float  # a step its text names: its clause weighs this, the score the rest
    uncued_clause_weight: float  # a step tagged by its measurement point only: the text this, the score the rest
    staff_clause_weight: float  # a staff mention: its clause weighs this, the prompt's prior the rest
    prompt_priors: tuple[tuple[str, float], ...]  # staff prompt -> the lean of the stories told for it

    def prompt_prior(self, prompt: str) -> float:
        return dict(self.prompt_priors).get(prompt, 0.0)  # a prompt without a prior leans nowhere


@dataclass(frozen=True)
class Step:
    id: str
    label: dict[str, str]
    cues: dict[str, tuple[str, ...]]
    measurement_point: MeasurementPoint | None
    alert_impact: float | None


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
    cues: CueMatcher = field(repr=False, compare=False)

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def all_mentions(self, folded: str) -> list[Mention]:
        """Every cue occurrence in folded text, in order (several per step possible)."""
        w = read_words(folded)
        return [
            Mention(self.steps[step].id, w.starts[first], w.ends[end - 1])
            for step, first, end in self.cues.matches(w.words, w.before)
        ]


@dataclass(frozen=True)
class Taxonomy:
    journeys: dict[str, Journey]
    thresholds: Thresholds
    callbacks: CallbackPolicy
    states: StatePolicy
    sources: dict[str, str] = field(default_factory=dict, compare=False)  # journey or step id -> its file

    def journey(self, journey_id: str) -> Journey | None:
        return self.journeys.get(journey_id)


# The YAML sections of numbers: their dataclass, and what one of their fields is called in errors.
SECTIONS: dict[str, tuple[type, str]] = {
    "thresholds": (Thresholds, "threshold"),
    "callbacks": (CallbackPolicy, "callbacks setting"),
    "states": (StatePolicy, "states setting"),
}
_PAIRS = tuple[tuple[str, float], ...]
T = TypeVar("T")


def _number(kind: type, value: Any, where: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not float(value).is_integer()):
        raise TaxonomyError(f"{where}: {value!r} is not {'an integer' if kind is int else 'a number'}")
    return kind(value)


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TaxonomyError(f"{where}: expected a mapping, got {value!r}")
    return value


def _value(kind: Any, value: Any, where: str) -> Any:
    """A YAML value as its field's type, or a TaxonomyError naming the field."""
    if kind is PerScale:
        scales = _mapping(value, where)
        odd = sorted(set(scales) ^ {"nps", "csat"})
        if odd:
            problem = "unknown scale" if odd[0] in scales else "missing"
            raise TaxonomyError(f"{where}.{odd[0]}: {problem} (a threshold per scale: nps, csat)")
        return PerScale(_number(int, scales["nps"], f"{where}.nps"), _number(int, scales["csat"], f"{where}.csat"))
    if kind == _PAIRS:
        return tuple((str(k), _number(float, v, f"{where}.{k}")) for k, v in _mapping(value, where).items())
    return _number(kind, value, where)


def _section(cls: type[T], section: str, values: dict[str, dict[str, Any]], defaults: Path) -> T:
    missing = [f"{section}.{name}" for name in get_type_hints(cls) if name not in values[section]]
    if missing:
        raise TaxonomyError(f"{defaults.name}: missing {', '.join(missing)} (the code has no defaults of its own)")
    return cls(**values[section])


def _journey(journey_id: str, spec: Any, steps: dict[str, Step], source: str) -> Journey:
    spec = _mapping(spec, f"{source}: journey {journey_id!r}")
    try:
        chosen = tuple(steps[s] for s in spec["steps"])
    except KeyError as missing:
        raise TaxonomyError(f"{source}: journey {journey_id!r} names unknown step {missing}") from None
    return Journey(journey_id, dict(spec.get("label", {})), chosen, step_cues(chosen))


def step_cues(steps: tuple[Step, ...]) -> CueMatcher:
    """The steps' cues, French and English, in one matcher."""
    for step in steps:
        for cue in (c for lang in step.cues.values() for c in lang):
            try:
                cue_words(cue)
            except CueError as error:
                raise TaxonomyError(f"step {step.id!r}: {error}") from None
    return CueMatcher.of([[c for lang in step.cues.values() for c in lang] for step in steps])


def _step(step_id: str, spec: Any, source: str, callbacks: CallbackPolicy) -> Step:
    """A step; its measurement point's threshold takes callbacks.default_threshold for a scale it leaves out."""
    spec = _mapping(spec, f"{source}: step {step_id!r}")
    given = _mapping(spec.get("cues"), f"{source}: step {step_id!r} cues")
    cues = {lang: tuple(str(c) for c in given.get(lang) or []) for lang in ("fr", "en")}
    if not cues["fr"] or not cues["en"]:
        raise TaxonomyError(f"{source}: step {step_id!r} needs both fr and en cues")
    point = spec.get("measurement_point")
    measurement = None
    if point is not None:
        where = f"{source}: step {step_id!r} measurement_point"
        point = _mapping(point, where)
        default = {"nps": callbacks.default_threshold.nps, "csat": callbacks.default_threshold.csat}
        threshold = {**default, **_mapping(point.get("threshold"), f"{where}.threshold")}
        sla = point.get("sla_hours")
        measurement = MeasurementPoint(
            _value(PerScale, threshold, f"{where}.threshold"),
            _number(float, sla, f"{where}.sla_hours") if sla is not None else None,
        )
    alert = spec.get("alert_impact")
    return Step(step_id, dict(spec.get("label", {})), cues, measurement, float(alert) if alert is not None else None)


def _files(path: Path | None, defaults: Path, with_shipped: bool) -> list[Path]:
    """The defaults first, then the shipped journeys (`with_shipped`, or no path), then the
    folder's files in name order (or the one file named); each file once."""
    files = sorted(DEFAULT_DIR.glob("*.yaml")) if with_shipped or path is None else []
    if path is not None:
        if path.is_dir():
            files += sorted(path.glob("*.yaml"))
        elif path.exists():
            files.append(path)
        else:
            raise TaxonomyError(f"taxonomy file {path} does not exist")
    if not defaults.exists():
        raise TaxonomyError(f"defaults file {defaults} does not exist")
    seen = {defaults.resolve()}
    ordered = [defaults]
    for file in files:
        if file.resolve() not in seen:
            seen.add(file.resolve())
            ordered.append(file)
    return ordered


def _read(file: Path) -> dict[str, Any]:
    try:
        return _mapping(yaml.safe_load(file.read_text(encoding="utf-8")), file.name)
    except yaml.YAMLError as error:
        hint = ' (a cue starting with * must be quoted: "*conseill*")' if "alias" in str(error) else ""
        raise TaxonomyError(f"{file}: not valid YAML{hint}: {error}") from None


def _declare(kind: str, ident: str, spec: Any, file: Path, into: dict[str, tuple[Any, str]]) -> None:
    if ident in into:
        raise TaxonomyError(
            f"{file}: {kind} {ident!r} is already declared in {into[ident][1]}; {kind} ids are shared by every "
            f"journey file: rename one (or set MIROIR_JOURNEYS_ONLY=true to use only your own files)"
        )
    into[ident] = (spec, str(file))


def load_taxonomy(path: Path | None = None, defaults: Path = DEFAULTS, with_shipped: bool = False) -> Taxonomy:
    """Merge the defaults (thresholds.yaml), then the YAML files of a folder (or one file) over them;
    no path: the shipped journeys; `with_shipped`: the shipped ones and the path's."""
    step_specs: dict[str, tuple[Any, str]] = {}
    journey_specs: dict[str, tuple[Any, str]] = {}
    values: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
    for file in _files(path, defaults, with_shipped):
        document = _read(file)
        unknown = sorted(set(document) - {"steps", "journeys", *SECTIONS})
        if unknown:
            known = ", ".join(sorted({"steps", "journeys", *SECTIONS}))
            raise TaxonomyError(f"{file}: unknown section {unknown[0]!r}; known: {known}")
        for step_id, spec in _mapping(document.get("steps"), f"{file.name}: steps").items():
            _declare("step", step_id, spec, file, step_specs)
        for journey_id, spec in _mapping(document.get("journeys"), f"{file.name}: journeys").items():
            _declare("journey", journey_id, spec, file, journey_specs)
        for section, (cls, noun) in SECTIONS.items():
            types = get_type_hints(cls)
            for name, value in _mapping(document.get(section), f"{file.name}: {section}").items():
                if name not in types:
                    raise TaxonomyError(f"{file.name}: unknown {noun} {name!r}; known: {sorted(types)}")
                values[section][name] = _value(types[name], value, f"{file.name}: {section}.{name}")
    thresholds = _section(Thresholds, "thresholds", values, defaults)
    callbacks = _section(CallbackPolicy, "callbacks", values, defaults)
    states = _section(StatePolicy, "states", values, defaults)
    steps = {step_id: _step(step_id, spec, src, callbacks) for step_id, (spec, src) in step_specs.items()}
    if not journey_specs:
        raise TaxonomyError(f"no journeys in {path or DEFAULT_DIR}")
    journeys = {jid: _journey(jid, spec, steps, src) for jid, (spec, src) in journey_specs.items()}
    sources = {i: src for specs in (step_specs, journey_specs) for i, (_, src) in specs.items()}
    return Taxonomy(journeys, thresholds, callbacks, states, sources)
