"""Text basics, offline: normalisation, clause splitting, French/English detection.

No NLTK: TextBlob's `.sentences` and `.words` need corpora downloaded at run
time, which cannot happen here, so clauses and tokens come from rules.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

_TOKEN = re.compile(r"[a-z0-9]+")
# Sentence ends, then the contrastive links where a verbatim turns from one
# step to another ("livraison rapide mais SAV injoignable").
_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+|\n+|\s+[-–—]\s+")
_CONTRAST = re.compile(
    r",?\s*\b(?:mais|par contre|en revanche|cependant|toutefois|n[eé]anmoins|pourtant|sauf que|"
    r"alors que|tandis que|but|however|although|though|whereas|except that|yet)\b\s*,?",
    re.IGNORECASE,
)
# Between two steps cued in one clause, the judgement changes at a comma or an 'and'.
_STEP_SEPARATOR = re.compile(r"\s*[,/]\s*|\s+(?:et|and|puis|then)\s+", re.IGNORECASE)


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x80, 0x250):  # Latin-1 and Latin Extended-A/B: every accent French or English uses
        plain = "".join(c for c in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(c))
        if plain != chr(code):
            table[code] = plain
    table.update({ord("œ"): "oe", ord("æ"): "ae", ord("’"): "'", ord("‘"): "'", ord("`"): "'", ord("´"): "'"})
    return table


_FOLD = _fold_table()
_SEEN: set[str] = {chr(c) for c in range(128)}


def fold(text: str) -> str:
    """Lower case, accents and ligatures removed, apostrophes unified: 'Délai dû' -> 'delai du'."""
    folded = text.lower().translate(_FOLD)
    if folded.isascii():
        return folded
    # Rarer characters (emoji, other scripts, typographic marks): decomposed once, then remembered.
    for char in set(folded) - _SEEN:
        _SEEN.add(char)
        plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if plain != char:
            _FOLD[ord(char)] = plain
    return folded.translate(_FOLD)


def tokens(folded: str) -> list[str]:
    return _TOKEN.findall(folded)


@dataclass(frozen=True)
class Clause:
    text: str
    start: int
    end: int


def clauses(text: str) -> list[Clause]:
    """Split a verbatim into sentences, then at contrastive links ('mais', 'but'...).

    Offsets index the original text, so evidence can point back into it.
    """
    pieces = _split(text, 0, len(text), _SENTENCE_END)
    pieces = [p for start, end in pieces for p in _split(text, start, end, _CONTRAST)]
    return [Clause(text[s:e], s, e) for s, e in pieces if text[s:e].strip(" .,;!?")]


def _split(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    out, cursor = [], start
    for match in pattern.finditer(text, start, end):
        out.append((cursor, match.start()))
        cursor = match.end()
    out.append((cursor, end))
    return [(s, e) for s, e in out if e > s]


def split_between(text: str, positions: list[int]) -> list[tuple[int, int]]:
    """Cut `text` into one span per position (sorted cue offsets), at the last comma or
    'et'/'and' between consecutive cues: 'livraison rapide, montage bâclé' -> two spans."""
    cuts = [0]
    for here, following in itertools.pairwise(positions):
        separators = list(_STEP_SEPARATOR.finditer(text, here, following))
        cuts.append(separators[-1].end() if separators else following)
    cuts.append(len(text))
    return list(itertools.pairwise(cuts))


# ------------------------------------------------------------------ language

_FRENCH = frozenset(
    "le la les un une des du de et est sont pas tres avec pour sur dans que qui ce cette mon "
    "ma mes je nous vous il elle ils on au aux mais ou donc car bien tout trop plus ete etait "
    "avoir fait rien merci livraison commande produit service client magasin ne n j l d c qu "
    "parfait nickel rapide recommande top bon bonne".split()
)
_ENGLISH = frozenset(
    "the an and is are was were not very with for on in that who this my i we you he she they "
    "but or so because well all too more been have had did nothing thanks delivery order "
    "service customer store it of to at be no great good nice people benefits culture".split()
)


def detect_language(text: str, folded: str | None = None) -> str:
    """'fr' or 'en' by function words; French when it cannot tell (the usual case here)."""
    words = tokens(fold(text) if folded is None else folded)
    french = sum(w in _FRENCH for w in words)
    english = sum(w in _ENGLISH for w in words)
    if french == english:  # short fragments ("Friendly people, good culture"): look at spelling
        french += len(_FRENCH_SPELLING.findall(text.lower()))
        english += len(_ENGLISH_SPELLING.findall(text.lower()))
    return "en" if english > french else "fr"


_FRENCH_SPELLING = re.compile(r"[éèêàùçôî]|eau|eux|oi[rt]|qu[ei]|tion[s]?\b|ement\b")
_ENGLISH_SPELLING = re.compile(r"th|wh|w|y\b|ing\b|ly\b|ful\b")
