"""One verbatim -> its language, its polarity, and the polarity of each step it speaks of."""

from __future__ import annotations

from dataclasses import dataclass

from processors.sentiment import polarity
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
    'livraison rapide mais SAV injoignable' gives each step its own polarity."""
    language = language if language in ("fr", "en") else detect_language(text)
    per_step: dict[str, list[float]] = {}
    evidence: dict[str, str] = {}
    for clause in clauses(text):
        folded = fold(clause.text)
        first_cue: dict[str, int] = {}
        for mention in journey.all_mentions(folded):
            first_cue.setdefault(mention.step_id, mention.start)
        if not first_cue:
            continue
        steps = sorted(first_cue, key=first_cue.__getitem__)
        for step_id, (start, end) in zip(steps, split_between(folded, sorted(first_cue.values())), strict=True):
            per_step.setdefault(step_id, []).append(polarity(folded[start:end], language))
            evidence.setdefault(step_id, clause.text.strip()[:EVIDENCE_CHARS])
    whole = polarity(text, language)
    found = [StepPolarity(step, sum(p) / len(p), True, evidence[step]) for step, p in per_step.items()]
    if measurement_step and measurement_step not in per_step:
        found.append(StepPolarity(measurement_step, whole, False, text.strip()[:EVIDENCE_CHARS]))
    return Analysis(language, whole, tuple(found))
