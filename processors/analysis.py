"""One verbatim -> its language, its polarity, and the polarity of each step it speaks of.

A verbatim is read once (`read`): folded, cut into words and clauses, its language told, each
clause scored from running sums of its feature weights. Each journey then only looks its cues up
in those words (`steps_of`): a staff story checked against every journey is read once, not once
per journey. A step takes the polarity of the whole clause that names it (sentences, cut at
"mais", "par contre", "but"...; two steps in one clause part at a comma or an "et"), not of the
text cut at its cue, and without the cue's own word (it says what the clause is about, not how it
went), unless the cues are all the clause holds; named in several clauses, the mean of theirs, each
weighed by how much of the model's vocabulary it holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from processors.sentiment import Sums, judges, model_for, textblob_polarity
from processors.taxonomy import Journey
from processors.text import Words, clause_spans, detect_language, fold, read_words, split_between

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


@dataclass(frozen=True)
class Reading:
    """A verbatim read once, for any journey."""

    text: str
    folded: str
    language: str
    words: Words
    clauses: list[tuple[int, int]]  # [first word, end word)
    sums: Sums | None  # None: no model shipped for the language (TextBlob on each span)
    polarity: float

    def span(self, start: int, end: int, without: Iterable[int] = ()) -> tuple[float, int]:
        """Polarity of words [start, end) and its weight (the known features it rests on);
        `without`: words whose own features are left out (sentiment.LinearSentiment.span)."""
        model = model_for(self.language)
        if model is None or self.sums is None:
            if end <= start:
                return 0.0, 0
            piece = self.folded[self.words.starts[start] : self.words.ends[end - 1]]
            return textblob_polarity(piece, self.language), end - start
        return model.span(self.sums, start, end, without)

    def quote(self, start: int, end: int) -> str:
        """The original text of words [start, end), as evidence."""
        w = self.words
        if end <= start:
            return ""
        # up to the next word, so that what closes the last one stays ("[email]", "!"), less the
        # separators before that next word
        a, b = w.starts[start], w.starts[end] if end < len(w.words) else len(self.folded)
        shown = self.text[a:b] if len(self.folded) == len(self.text) else self.folded[a:b]
        return shown.strip().rstrip(",;/-–—").strip()[:EVIDENCE_CHARS]


def read(text: str, language: str | None = None) -> Reading:
    folded = fold(text)
    words = read_words(folded)
    language = language if language in ("fr", "en") else detect_language(text, folded, words.words)
    model = model_for(language)
    sums = model.sums(words) if model is not None else None
    whole = model.span(sums, 0, len(words.words))[0] if model and sums else textblob_polarity(text, language)
    return Reading(text, folded, language, words, clause_spans(words), sums, whole)


def steps_of(reading: Reading, journey: Journey, measurement_step: str | None = None) -> Analysis:
    """The steps of `journey` a reading speaks of, each with the polarity of its clauses."""
    w = reading.words
    found = journey.cues.matches(w.words, w.before)
    per_step: dict[int, list[tuple[float, int]]] = {}
    evidence: dict[int, str] = {}
    if found:
        cue_words = {i for _, first_word, end_word in found for i in range(first_word, end_word)}
        at = 0
        for start, end in reading.clauses:
            first: dict[int, int] = {}
            while at < len(found) and found[at][1] < end:
                step, word, _ = found[at]
                if word >= start:
                    first.setdefault(step, word)
                at += 1
            if not first:
                continue
            steps = sorted(first, key=first.__getitem__)
            for step, (a, b) in zip(steps, split_between(w, start, end, [first[s] for s in steps]), strict=True):
                cues = cue_words.intersection(range(a, b))
                if all(k in cues or not judges(w.words[k]) for k in range(a, b)):
                    cues = set()  # the cues are all it says ("SAV injoignable"): they judge, then
                per_step.setdefault(step, []).append(reading.span(a, b, cues))
                evidence.setdefault(step, reading.quote(a, b))
    out = [
        StepPolarity(journey.steps[step].id, _weighted(scores), True, evidence[step])
        for step, scores in sorted(per_step.items(), key=lambda item: _first_named(found, item[0]))
    ]
    if measurement_step and all(s.step_id != measurement_step for s in out):
        out.append(StepPolarity(measurement_step, reading.polarity, False, reading.text.strip()[:EVIDENCE_CHARS]))
    return Analysis(reading.language, reading.polarity, tuple(out))


def _first_named(found: list[tuple[int, int, int]], step: int) -> int:
    return next(word for s, word, _ in found if s == step)


def _weighted(scores: list[tuple[float, int]]) -> float:
    total = sum(weight for _, weight in scores)
    if not total:
        return sum(p for p, _ in scores) / len(scores)
    return sum(p * weight for p, weight in scores) / total


def analyse(text: str, journey: Journey, language: str | None = None, measurement_step: str | None = None) -> Analysis:
    """Score the clause that names each step, not the whole text, so that
    'livraison rapide mais SAV injoignable' gives each step its own polarity."""
    return steps_of(read(text, language), journey, measurement_step)


def analyse_many(
    texts: Iterable[str], journey: Journey, language: str | None = None, measurement_step: str | None = None
) -> list[Analysis]:
    """A batch: the model's and the journey's caches serve every verbatim of it."""
    return [steps_of(read(text, language), journey, measurement_step) for text in texts]
