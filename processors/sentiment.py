"""Polarity in [-1, 1], of a verbatim or of any run of its words, French or English, offline.

A small linear model (multinomial logistic regression) trained by
`scripts/train_sentiment.py` on the public reviews in ../shared/data; its
weights ship in `processors/models/` with their provenance and load without
any download. Polarity is P(positive) - P(negative). TextBlob (textblob-fr's
analyzer for French) is the fallback when a model file is missing, and the
baseline in `miroir eval`.

The features, each tied to the word that ends it, so that any run of words
can be scored from running sums without reading the text again:
- each word, marked `!` inside a negation's scope ("pas content" -> `!content`);
  "moins" flips the next words as a negation does ("moins cher" reads as
  "pas cher"), "plus" only after "ne" ("ne ... plus" vs "plus cher");
- each pair of neighbouring words ("trop cher", "peu aimable");
- the first six letters of a long word (`~resili`), which carry a judgement
  across inflections and across domains ("résilié", "résiliation");
- no feature of its own for function words, modifiers ("un", "peu", "trop",
  "très", "plus", "a bit", "too") and numbers: they weigh only through the
  pairs they form, as modifiers of the word they precede, never as polar
  words (e-commerce reviews had taught "un peu" as praise, airline ones
  "two" and "five" as complaints).
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from processors.text import Words, fold, read_words

MODEL_DIR = Path(__file__).parent / "models"
FEATURES_VERSION = 3  # what `features` emits; a model trained on another version is not loaded

_NEGATORS = frozenset(
    "ne n pas jamais aucun aucune rien sans personne ni not no never nothing none nobody without nor cannot".split()
)
# Folded "don't" reads "don", "t": the "t" closes an English negation.
_NEGATOR_STEMS = frozenset("don didn doesn isn wasn weren aren won wouldn couldn shouldn can haven hasn".split())
_SCOPE_ENDS = frozenset(["mais", "but", "et", "and", "car", "because", "donc", "so"])
_NEGATION_SCOPE = 3
_TRIGGERS = _NEGATORS | {"t", "plus", "moins", "less"}
_FLIP_SCOPE = 2  # "moins": the next word or two
_STEM, _STEM_MIN = 6, 7
_QUIET = frozenset(
    # function words and modifiers: no unigram of their own
    "le la les l un une des de du d a au aux en y et ou ce cet cette ces c ca ci je j tu il elle on nous vous ils "
    "elles me m te t se s lui leur leurs mon ma mes ton ta tes son sa ses notre nos votre vos que qu qui quoi dont "
    "est sont etait etaient ete etre ai as avons avez ont avait avaient fait par pour sur dans avec chez vers "
    "peu trop tres assez plus moins vraiment si aussi tout toute tous toutes bien "
    "the an of to in on at for with by from and or it its is are was were be been being i we you he she they me "
    "us him them my our your his her their this that these those there here as so very too quite rather bit "
    "really more less much "
    # numbers: "deux semaines", "five minutes" judge nothing by themselves (complaints count hours)
    "un deux trois quatre cinq six sept huit neuf dix vingt trente cent mille premier premiere "
    "one two three four five six seven eight nine ten twenty thirty hundred first second".split()
) - {"bien"}


def judges(word: str) -> bool:
    """Whether a word has features of its own (not a function word, modifier or number)."""
    return word not in _QUIET and not word.isdigit()


def marked_words(w: Words) -> list[str]:
    """Each word, marked `!` inside a negation's (or "moins"'s) scope; a scope ends at a
    punctuation mark, a link ("mais", "et"...) or the next negation. Only the scopes are walked
    word by word: most words are in none."""
    words, before = w.words, w.before
    hits = list(itertools.compress(range(len(words)), map(_TRIGGERS.__contains__, words)))
    real = [i for i in hits if _opens_scope(words, i)]
    if not real:
        return words
    out = list(words)
    opening = set(real)
    n = len(words)
    for i in real:
        scope = _FLIP_SCOPE if words[i] in ("moins", "less") else _NEGATION_SCOPE
        k = i + 1
        while scope and k < n and not before[k] and words[k] not in _SCOPE_ENDS and k not in opening:
            out[k] = "!" + words[k]
            scope -= 1
            k += 1
    return out


def _opens_scope(words: list[str], i: int) -> bool:
    word = words[i]
    if word == "t":  # "don't", "isn't": folded to "don", "t"
        return i > 0 and words[i - 1] in _NEGATOR_STEMS
    if word == "plus":  # "ne ... plus" (no longer), not "plus cher" (dearer)
        return any(words[k] in ("ne", "n") for k in range(max(0, i - 3), i))
    return True


def word_features(previous: str, marked: str) -> tuple[str, ...]:
    """The features that end at a (marked) word: its unigram and stem, and its pair with the word
    before (`previous`: "" after a punctuation mark)."""
    word = marked[1:] if marked[0] == "!" else marked
    found: list[str] = []
    if judges(word):
        found.append(marked)
        if len(word) >= _STEM_MIN:
            found.append(("~!" if marked[0] == "!" else "~") + word[:_STEM])
    if previous and not (word in _QUIET and (previous[1:] if previous[0] == "!" else previous) in _QUIET):
        found.append(f"{previous} {marked}")
    return tuple(found)


def features_at(w: Words) -> list[tuple[str, ...]]:
    """For each word, the features that end at it."""
    marked = marked_words(w)
    return [word_features(marked[i - 1] if i and not w.before[i] else "", m) for i, m in enumerate(marked)]


def features(text: str, folded: bool = False) -> list[str]:
    """Every feature of a text, in order (what the model is trained on)."""
    return [f for at in features_at(read_words(text if folded else fold(text))) for f in at]


Vector = tuple[float, float, float]


@dataclass(frozen=True)
class Sums:
    """A text's feature weights, word by word, in columns (neg, neu, pos, known of its singles,
    i.e. unigram and stem; then of its pairs), so that any run of its words is scored from slices:
    a pair counts in a run only when both its words do."""

    columns: list[tuple[float, ...]]


@dataclass(frozen=True)
class LinearSentiment:
    """Multinomial logistic regression: classes (negative, neutral, positive)."""

    language: str
    intercept: Vector
    weights: dict[str, Vector]
    provenance: str
    neutral_margin: float = 0.3  # |polarity| below: neutral (chosen in training on held-out domains)
    version: int = FEATURES_VERSION
    _cache: dict[tuple[str, str], tuple[float, ...]] = field(default_factory=dict, repr=False, compare=False)

    def sums(self, w: Words) -> Sums:
        marked = marked_words(w)
        keys = list(
            zip([p if not b else "" for p, b in zip(["", *marked], w.before, strict=False)], marked, strict=False)
        )
        cached = self._cache
        parts = list(map(cached.get, keys))
        if None in parts:  # words (in context) this process has not weighed yet
            if len(cached) > 300_000:  # a bound: the vocabulary of a long-running worker
                cached.clear()
            for i, part in enumerate(parts):
                if part is None:
                    parts[i] = cached[keys[i]] = self._weigh(word_features(*keys[i]))
        return Sums(list(zip(*parts, strict=False)) if parts else [()] * 8)

    def _weigh(self, found: tuple[str, ...]) -> tuple[float, ...]:
        """A word's features' weights: its own (unigram, stem) and its pair's, apart."""
        single, ks, pair, kp = [0.0, 0.0, 0.0], 0, [0.0, 0.0, 0.0], 0
        for f in found:
            v = self.weights.get(f)
            if v is None:
                continue
            if " " in f:
                pair = [pair[0] + v[0], pair[1] + v[1], pair[2] + v[2]]
                kp += 1
            else:
                single = [single[0] + v[0], single[1] + v[1], single[2] + v[2]]
                ks += 1
        return single[0], single[1], single[2], ks, pair[0], pair[1], pair[2], kp

    def span(self, sums: Sums, start: int, end: int, without: Iterable[int] = ()) -> tuple[float, int]:
        """Polarity of words [start, end), and how many known features it rests on. `without`: words
        whose own features (not their pairs) are left out: a step's cue says what the clause is
        about, not how it went ("sinistre", "ordonnance" lean negative in reviews that name them)."""
        if end <= start:
            return 0.0, 0
        sn, su, sp, sk, pn, pu, pp, pk = sums.columns
        first = start + 1  # the pair ending at `start` straddles the cut
        n = sum(sn[start:end]) + sum(pn[first:end])
        u = sum(su[start:end]) + sum(pu[first:end])
        p = sum(sp[start:end]) + sum(pp[first:end])
        known = sum(sk[start:end]) + sum(pk[first:end])
        for i in without:
            n, u, p, known = n - sn[i], u - su[i], p - sp[i], known - sk[i]
        if known < 0.5:
            return 0.0, 0
        norm = math.sqrt(known)  # counts, L2-normalised as in training: a clause and a review on one scale
        neg = self.intercept[0] + n / norm
        neu = self.intercept[1] + u / norm
        pos = self.intercept[2] + p / norm
        top = max(neg, neu, pos)
        e_neg, e_neu, e_pos = math.exp(neg - top), math.exp(neu - top), math.exp(pos - top)
        return (e_pos - e_neg) / (e_neg + e_neu + e_pos), round(known)

    def polarity(self, text: str, folded: bool = False) -> float:
        w = read_words(text if folded else fold(text))
        return self.span(self.sums(w), 0, len(w.words))[0]

    def save(self, path: Path) -> None:
        document = {
            "language": self.language,
            "version": self.version,
            "provenance": self.provenance,
            "neutral_margin": self.neutral_margin,
            "intercept": list(self.intercept),
            "weights": {f: list(w) for f, w in sorted(self.weights.items())},
        }
        with gzip.open(path, "wt", encoding="utf-8") as out:
            json.dump(document, out, separators=(",", ":"))

    @classmethod
    def load(cls, path: Path) -> LinearSentiment:
        with gzip.open(path, "rt", encoding="utf-8") as source:
            document = json.load(source)
        if document.get("version", 1) != FEATURES_VERSION:
            raise ValueError(
                f"{path}: trained on features v{document.get('version', 1)}, this code reads v{FEATURES_VERSION}: "
                "run `make train`"
            )
        return cls(
            language=document["language"],
            provenance=document["provenance"],
            neutral_margin=document["neutral_margin"],
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


def polarity(text: str, language: str, folded: bool = False) -> float:
    """Miroir's polarity of `text` in [-1, 1] (`folded`: text already went through text.fold)."""
    model = model_for(language)
    if model is None:
        return textblob_polarity(text, language)
    return model.polarity(text, folded)
