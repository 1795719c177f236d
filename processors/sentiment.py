"""Polarity in [-1, 1], per verbatim or per clause, French or English, offline.

A small linear model (multinomial logistic regression over word uni- and
bigrams with negation scopes) trained by `scripts/train_sentiment.py` on the
public reviews in ../shared/data; its weights ship in `processors/models/`
with their provenance and load without any download. Polarity is
P(positive) - P(negative). TextBlob (textblob-fr's analyzer for French) is
the fallback when a model file is missing, and the baseline in `miroir eval`.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from processors.text import fold, tokens

MODEL_DIR = Path(__file__).parent / "models"

_NEGATORS = frozenset(
    "ne n pas jamais aucun aucune rien sans plus personne ni not no never nothing none nobody "
    "without nor cannot".split()
)
# Folded "don't" tokenises as "don", "t": the "t" closes an English negation.
_NEGATOR_STEMS = frozenset("don didn doesn isn wasn weren aren won wouldn couldn shouldn can haven hasn".split())
_SCOPE_ENDS = frozenset(["mais", "but", "et", "and", "car", "because", "donc", "so"])
_NEGATION_SCOPE = 3


def features(text: str) -> list[str]:
    """Word unigrams and bigrams; words in a negation's scope are marked with '!'."""
    words = tokens(fold(text))
    marked: list[str] = []
    scope = 0
    for i, word in enumerate(words):
        if word in _SCOPE_ENDS:
            scope = 0
        if word in _NEGATORS or (word == "t" and i and words[i - 1] in _NEGATOR_STEMS):
            marked.append(word)
            scope = _NEGATION_SCOPE
            continue
        marked.append("!" + word if scope else word)
        scope = max(scope - 1, 0)
    bigrams = [f"{a} {b}" for a, b in itertools.pairwise(marked)]
    return marked + bigrams


@dataclass(frozen=True)
class LinearSentiment:
    """Multinomial logistic regression: classes (negative, neutral, positive)."""

    language: str
    intercept: tuple[float, float, float]
    weights: dict[str, tuple[float, float, float]]
    provenance: str

    def probabilities(self, text: str) -> tuple[float, float, float]:
        neg = neu = pos = 0.0
        known = 0
        for feature in set(features(text)):
            w = self.weights.get(feature)
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

    def polarity(self, text: str) -> float:
        neg, _, pos = self.probabilities(text)
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


def polarity(text: str, language: str) -> float:
    """Miroir's polarity of `text` in [-1, 1]."""
    model = model_for(language)
    if model is None:
        return textblob_polarity(text, language)
    return model.polarity(text)
