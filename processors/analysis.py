"""One verbatim -> its language, its polarity, and the polarity of each step it speaks of."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from processors.sentiment import model_for, polarity
from processors.taxonomy import Journey
from processors.text import clauses, detect_language, fold, split_between

EVIDENCE_CHARS = 280


@dataclass(frozen=True)
class StepPolarity:
    step_id: str
    polarity: float
    cued: bool  # False: tagged only because the survey is tied to this step
    evidence: str = ""  # the clause that speaks of the step (the verbatim when not cued)


@dataclass(frozen=True)
class Analysis:
    language: str
    polarity: float
    steps: tuple[StepPolarity, ...]

    @property
    def tagged(self) -> bool:
        return bool(self.steps)


def analyse(text: str, journey: Journey, language: str | None = None, measurement_step: str | None = None) -> Analysis:
    """Score the clause around each step's cue, not the whole text, so that
    'livraison rapide mais SAV injoignable' gives each step its own polarity.

    The text is folded and its features weighed once; each step's span is then
    scored from those weights, without reading the text again."""
    folded = fold(text)
    language = language if language in ("fr", "en") else detect_language(text, folded)
    score = _span_scorer(folded, language)
    same_places = len(folded) == len(text)  # folding kept every offset (no ligature expanded)
    per_step: dict[str, list[float]] = {}
    evidence: dict[str, str] = {}
    for clause in clauses(folded):
        first_cue: dict[str, int] = {}
        for mention in journey.all_mentions(clause.text):
            first_cue.setdefault(mention.step_id, mention.start)
        if not first_cue:
            continue
        steps = sorted(first_cue, key=first_cue.__getitem__)
        spans = split_between(clause.text, sorted(first_cue.values()))
        for step_id, (start, end) in zip(steps, spans, strict=True):
            per_step.setdefault(step_id, []).append(score(clause.start + start, clause.start + end))
            shown = text[clause.start : clause.end] if same_places else clause.text
            evidence.setdefault(step_id, shown.strip()[:EVIDENCE_CHARS])
    whole = score(0, len(folded))
    found = [StepPolarity(step, sum(p) / len(p), True, evidence[step]) for step, p in per_step.items()]
    if measurement_step and measurement_step not in per_step:
        found.append(StepPolarity(measurement_step, whole, False, text.strip()[:EVIDENCE_CHARS]))
    return Analysis(language, whole, tuple(found))


def _span_scorer(folded: str, language: str) -> Callable[[int, int], float]:
    model = model_for(language)
    if model is None:  # no shipped model: TextBlob on each span
        return lambda start, end: polarity(folded[start:end], language, folded=True)
    weighed = model.weighed(folded)
    return lambda start, end: model.span_polarity(weighed, start, end)
