"""A journey's cues, matched on the words of a folded text (processors/text.py `read_words`).

A cue is one or more words; each word is the word itself (`livraison`), a start (`livr*`: livraison,
livré), a part (`*conseill*`: téléconseiller) or any pattern with `*` inside (`rembours*ment`).
Accents and case are folded on both sides. Each distinct word of the texts is looked up once per
journey (a cache), so a batch of verbatims costs a dictionary lookup per word.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from processors.text import fold, tokens


class CueError(ValueError):
    """A cue that matches nothing, or anything."""


@dataclass(frozen=True)
class _Cue:
    step: int  # the step's index in its journey
    first: str  # kind of its first word: exact, prefix, part, pattern
    words: tuple[re.Pattern[str], ...]  # each word's full match, for the words after the first


def cue_words(cue: str) -> list[str]:
    """The folded words of a cue, `*` kept: "Service client*" -> ["service", "client*"]."""
    words = [w for w in re.split(r"[^a-z0-9*]+", fold(cue.strip())) if w]
    if not words or all(set(w) <= {"*"} for w in words):
        raise CueError(f"empty cue {cue!r}")
    return words


def _word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(re.escape(word).replace(r"\*", r"[a-z0-9]*"))


@dataclass
class CueMatcher:
    """Every cue of a journey's steps (a tuple of cue lists, in step order)."""

    exact: dict[str, list[_Cue]] = field(default_factory=dict)
    prefix: dict[int, dict[str, list[_Cue]]] = field(default_factory=dict)
    part: list[tuple[str, _Cue]] = field(default_factory=list)
    pattern: list[tuple[re.Pattern[str], _Cue]] = field(default_factory=list)
    _seen: dict[str, tuple[_Cue, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, steps: Sequence[Sequence[str]]) -> CueMatcher:
        matcher = cls()
        for index, cues in enumerate(steps):
            for text in cues:
                matcher._add(index, cue_words(text))
        return matcher

    def _add(self, step: int, words: list[str]) -> None:
        head = words[0]
        rest = tuple(_word_pattern(w) for w in words[1:])
        stars = head.count("*")
        if not stars:
            self.exact.setdefault(head, []).append(_Cue(step, "exact", rest))
        elif stars == 1 and head.endswith("*"):
            self.prefix.setdefault(len(head) - 1, {}).setdefault(head[:-1], []).append(_Cue(step, "prefix", rest))
        elif stars == 2 and head.startswith("*") and head.endswith("*") and len(head) > 2:
            self.part.append((head[1:-1], _Cue(step, "part", rest)))
        else:
            self.pattern.append((_word_pattern(head), _Cue(step, "pattern", rest)))

    def _starting(self, word: str) -> tuple[_Cue, ...]:
        hits = list(self.exact.get(word, ()))
        for length, starts in self.prefix.items():
            if length <= len(word):
                hits += starts.get(word[:length], ())
        hits += [cue for part, cue in self.part if part in word]
        hits += [cue for pattern, cue in self.pattern if pattern.fullmatch(word)]
        return tuple(hits)

    def matches(self, words: Sequence[str], breaks: Sequence[int] | None = None) -> list[tuple[int, int, int]]:
        """(step index, first word, end word) of every cue found, in order of their first word. A
        cue of several words does not run over a punctuation mark (`breaks[i]`: one before word i).
        Each distinct word is looked up once per matcher, then found in a dictionary."""
        seen = self._seen
        starting = list(map(seen.get, words))
        if None in starting:
            if len(seen) > 100_000:  # a bound: the vocabulary of a long-running worker
                seen.clear()
            for i, found in enumerate(starting):
                if found is None:
                    starting[i] = seen[words[i]] = self._starting(words[i])
        out = []
        n = len(words)
        for i in itertools.compress(range(n), starting):
            for cue in starting[i]:  # type: ignore[union-attr]
                end = i + 1 + len(cue.words)
                if end > n:
                    continue
                if all(
                    p.fullmatch(words[i + 1 + k]) and not (breaks and breaks[i + 1 + k])
                    for k, p in enumerate(cue.words)
                ):
                    out.append((cue.step, i, end))
        return out

    def matches_whole(self, text: str) -> set[int]:
        """The steps one of whose cues covers all of `text` (a cue of another step, say)."""
        words = tokens(fold(text))
        return {step for step, first, end in self.matches(words) if first == 0 and end == len(words)}
