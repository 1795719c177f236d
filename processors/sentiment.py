"""Polarity in [-1, 1], per verbatim or per clause, French or English, offline.

A small linear model (multinomial logistic regression over word uni- and
bigrams with negation scopes) trained by `scripts/train_sentiment.py` on the
public reviews in ../shared/data; its weights ship in `processors/models/`
with their provenance and load without any download. Polarity is
P(positive) - P(negative). TextBlob (textblob-fr's analyzer for French) is
the fallback when a model file is missing, and the baseline in `miroir eval`.
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from processors.text import fold

_WORD = re.compile(r"[a-z0-9]+")

MODEL_DIR = Path(__file__).parent / "models"

_NEGATORS = frozenset(
    "ne n pas jamais aucun aucune rien sans plus personne ni not no never nothing none nobody "
    "without nor cannot".split()
)
# Folded "don't" tokenises as "don", "t": the "t" closes an English negation.
_NEGATOR_STEMS = frozenset("don didn doesn isn wasn weren aren won wouldn couldn shouldn can haven hasn".split())
_SCOPE_ENDS = frozenset(["mais", "but", "et", "and", "car", "because", "donc", "so"])
_NEGATION_SCOPE = 3


def feature_spans(folded: str) -> list[tuple[str, int, int]]:
    """(feature, start, end) in folded text: word unigrams and bigrams, words in a negation's
    scope marked with '!'."""
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(folded)]
    marked: list[tuple[str, int, int]] = []
    scope = 0
    for i, (word, start, end) in enumerate(words):
        if word in _SCOPE_ENDS:
            scope = 0
        if word in _NEGATORS or (word == "t" and i and words[i - 1][0] in _NEGATOR_STEMS):
            marked.append((word, start, end))
            scope = _NEGATION_SCOPE
            continue
        marked.append(("!" + word if scope else word, start, end))
        scope = max(scope - 1, 0)
    bigrams = [(f"{a} {b}", s, e) for (a, s, _), (b, _, e) in itertools.pairwise(marked)]
    return marked + bigrams


def features(text: str, folded: bool = False) -> list[str]:
    return [feature for feature, _, _ in feature_spans(text if folded else fold(text))]


@dataclass(frozen=True)
class LinearSentiment:
    """Multinomial logistic regression: classes (negative, neutral, positive)."""

    language: str
    intercept: tuple[float, float, float]
    weights: dict[str, tuple[float, float, float]]
    provenance: str

    def probabilities(self, text: str, folded: bool = False) -> tuple[float, float, float]:
        return self.probabilities_of(set(features(text, folded)))

    def weighed(self, folded: str) -> list[tuple[str, int, int, tuple[float, float, float]]]:
        """The known features of folded text with their places and weights, looked up once so that
        any span of it can be scored without reading it again (see `span_polarity`)."""
        weights = self.weights
        return sorted(
            ((f, s, e, weights[f]) for f, s, e in feature_spans(folded) if f in weights), key=lambda item: item[1]
        )

    def span_polarity(
        self, weighed: list[tuple[str, int, int, tuple[float, float, float]]], start: int = 0, end: int | None = None
    ) -> float:
        first = bisect.bisect_left(weighed, start, key=lambda item: item[1])
        chosen: dict[str, tuple[float, float, float]] = {}
        for feature, s, e, w in itertools.islice(weighed, first, None):
            if end is not None and s >= end:
                break
            if end is None or e <= end:
                chosen[feature] = w
        neg, _, pos = self.probabilities_of(set(chosen), chosen)
        return pos - neg

    def probabilities_of(
        self,
        found: set[str],
        known_weights: dict[str, tuple[float, float, float]] | None = None,
    ) -> tuple[float, float, float]:
        neg = neu = pos = 0.0
        known = 0
        lookup = known_weights if known_weights is not None else self.weights
        for feature in found:
            w = lookup.get(feature)
            if w is not None:
                neg += w[0]
                neu += w[1]
                pos += w[2]
                known += 1
        # Binary features, L2-normalised as in training: a clause and a long
        # review are on one scale.
        norm = math.sqrt(known) or 1.0
        neg = self.intercept[0] + neg / norm
        neu = self.intercept[1] + neu / norm
        pos = self.intercept[2] + pos / norm
        top = max(neg, neu, pos)
        e_neg, e_neu, e_pos = math.exp(neg - top), math.exp(neu - top), math.exp(pos - top)
        total = e_neg + e_neu + e_pos
        return e_neg / total, e_neu / total, e_pos / total

    def polarity(self, text: str, folded: bool = False) -> float:
        neg, _, pos = self.probabilities(text, folded)
        return pos - neg

    def save(self, path: Path) -> None:
        document = {
            "language": self.language,
            "provenance": self.provenance,
            "intercept": list(self.intercept),
            "weights": {f: list(w) for f, w in sorted(self.weights.items())},
        }
        with gzip.open(path, "wt", encoding="utf-8") as out:
            json.dump(document, out, separators=(",", ":"))

    @classmethod
    def load(cls, path: Path) -> LinearSentiment:
        with gzip.open(path, "rt", encoding="utf-8") as source:
            document = json.load(source)
        return cls(
            language=document["language"],
            provenance=document["provenance"],
            intercept=tuple(document["intercept"]),
            weights={f: tuple(w) for f, w in document["weights"].items()},
        )


def held_out(text: str) -> bool:
    """One review in five, by a hash of its text: never trained on, kept for evaluation."""
    return int(hashlib.sha1(text.encode()).hexdigest(), 16) % 5 == 0


@cache
def model_for(language: str) -> LinearSentiment | None:
    path = MODEL_DIR / f"sentiment-{language}.json.gz"
    return LinearSentiment.load(path) if path.exists() else None


def textblob_polarity(text: str, language: str) -> float:
    """Plain TextBlob polarity (textblob-fr's PatternAnalyzer for French): the baseline."""
    return float(_textblob_analyzer(language)(text)[0])


@cache
def _textblob_analyzer(language: str):
    if language == "fr":
        from textblob_fr import PatternAnalyzer

        return PatternAnalyzer().analyze
    from textblob.en.sentiments import PatternAnalyzer as EnglishAnalyzer

    return EnglishAnalyzer().analyze


def polarity(text: str, language: str, folded: bool = False) -> float:
    """Miroir's polarity of `text` in [-1, 1] (`folded`: text already went through text.fold)."""
    model = model_for(language)
    if model is None:
        return textblob_polarity(text, language)
    return model.polarity(text, folded)
