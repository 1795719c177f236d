"""Text basics, offline: normalisation, words, clauses, French/English detection.

No NLTK: TextBlob's `.sentences` and `.words` need corpora downloaded at run
time, which cannot happen here, so words and clauses come from rules, read in
one pass (`read_words`) that everything else (features, cues, clauses) reuses.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass

_TOKEN = re.compile(r"[a-z0-9]+")
SENTENCE, PART = 2, 1  # what stands before a word: a sentence end, a comma or slash


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x80, 0x250):  # Latin-1 and Latin Extended-A/B: every accent French or English uses
        plain = "".join(c for c in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(c))
        if plain != chr(code):
            table[code] = plain
    table.update({ord("œ"): "oe", ord("æ"): "ae", ord("’"): "'", ord("‘"): "'", ord("`"): "'", ord("´"): "'"})
    table[ord("…")] = "."  # one character still: offsets into the folded text stay those of the original
    return table


_FOLD = _fold_table()
# What the quick path would get wrong: typographic apostrophes and ligatures (NFKD keeps them, so
# they would vanish), and anything beyond the Latin letters _FOLD knows.
_CAREFUL = re.compile("[’‘`´œæ…\u0250-\U0010ffff]")
_SEEN: set[str] = {chr(c) for c in range(128)}


def fold(text: str) -> str:
    """Lower case, accents and ligatures removed, apostrophes unified: 'Délai dû' -> 'delai du'."""
    lower = text.lower()
    if lower.isascii():
        return lower.replace("`", "'") if "`" in lower else lower
    if not _CAREFUL.search(lower):  # accents only (most French): decomposed and dropped in C, 3x faster
        quick = unicodedata.normalize("NFKD", lower).encode("ascii", "ignore").decode()
        if len(quick) == len(lower):  # every letter kept its place: offsets still point into the text
            return quick
    folded = lower.translate(_FOLD)
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
class Words:
    """The words of a folded text, where each is, and what stands before each (0, PART, SENTENCE)."""

    words: list[str]
    starts: list[int]
    ends: list[int]
    before: list[int]


def read_words(folded: str) -> Words:
    """One split in C (words and the gaps between them), then list-wide steps: a verbatim's words
    are read without a Python step per character."""
    parts = _SPLIT.split(folded)  # gap, word, gap, word, ..., gap
    words = parts[1::2]
    places = list(itertools.accumulate(map(len, parts)))  # where each part ends
    starts = places[0::2][: len(words)]
    ends = places[1::2]
    gaps = parts[0::2]
    before = [SENTENCE, *map(_gap_mark, gaps[1 : len(words)])] if words else []
    return Words(words, starts, ends, before)


_SPLIT = re.compile(r"([a-z0-9]+)")
# A sentence ends at . ! ? ; followed by a space (not "jeanne.martin@", "4.5", "example.org"), a line,
# or a spaced dash.
_SENTENCE_GAP = re.compile(r"[.!?;][^\w\s]*\s|\n|\s[-–—]+\s")


@functools.lru_cache(maxsize=4096)
def _gap_mark(gap: str) -> int:
    """What the text between two words says: a sentence ends, a part of one does (a comma, a
    slash), or nothing."""
    if _SENTENCE_GAP.search(gap):
        return SENTENCE
    return PART if "," in gap or "/" in gap else 0


# ------------------------------------------------------------------ clauses

# Links where a verbatim turns ("livraison rapide mais SAV injoignable"): a conjunction always opens
# a clause; an adverb only at the start of one ("Par contre, le SAV...") or before a subject
# ("... rapide, en revanche le SAV..."), not inside a clause ("Les franchises sont en revanche
# élevées", "Au retrait, en revanche, on m'a dit...", "The staff, however, were rude": one clause,
# which the adverb sets against the one before).
_CONJUNCTIONS = {
    ("mais",),
    ("sauf", "que"),
    ("alors", "que"),
    ("tandis", "que"),
    ("but",),
    ("whereas",),
    ("although",),
    ("though",),
    ("except", "that"),
    ("while",),
}
_ADVERBS = {
    ("par", "contre"),
    ("en", "revanche"),
    ("cependant",),
    ("toutefois",),
    ("neanmoins",),
    ("pourtant",),
    ("however",),
    ("yet",),
    ("on", "the", "other", "hand"),
}
_LINK_FIRST: dict[str, list[tuple[str, ...]]] = {link[0]: [] for link in _CONJUNCTIONS | _ADVERBS}
for _link in sorted(_CONJUNCTIONS | _ADVERBS, key=len, reverse=True):
    _LINK_FIRST[_link[0]].append(_link)
# Words that open a clause: after an adverb, they say the adverb heads a new clause.
_OPENERS = frozenset(
    "le la les l un une des du ce cet cette ces c ca mon ma mes ton ta tes son sa ses notre nos votre vos leur "
    "leurs je j il elle on nous vous ils elles y rien personne aucun aucune tout "
    "the an this that these those my our your his her their it i we you he she they there nothing".split()
)
# Between two steps named in one clause, the judgement changes at a comma, a slash or an 'and'.
_STEP_SEPARATORS = frozenset(["et", "and", "puis", "then", "ainsi", "also", "aussi"])


def clause_spans(w: Words) -> list[tuple[int, int]]:
    """[first word, end word) of each clause: sentences, cut at contrastive links (the link left
    out of both). Only sentence starts and links are visited."""
    spans: list[tuple[int, int]] = []
    words, before, n = w.words, w.before, len(w.words)
    events = sorted(
        {
            *itertools.compress(range(n), map(SENTENCE.__eq__, before)),
            *itertools.compress(range(n), map(_LINK_FIRST.__contains__, words)),
        }
    )
    start = 0
    for i in events:
        if i < start:  # inside a link already taken ("par contre")
            continue
        if before[i] == SENTENCE and i > start:
            spans.append((start, i))
            start = i
        link = _link_at(words, i) if words[i] in _LINK_FIRST else None
        if link is None:
            continue
        after = i + len(link)
        aside = before[i] == PART and after < n and before[after] == PART  # ", en revanche," inside a clause
        opens = link in _CONJUNCTIONS or i == start or (after < n and words[after] in _OPENERS and not aside)
        if opens:
            if i > start:
                spans.append((start, i))
            start = after
    if start < n:
        spans.append((start, n))
    return spans


def _link_at(words: list[str], i: int) -> tuple[str, ...] | None:
    for link in _LINK_FIRST[words[i]]:
        if tuple(words[i : i + len(link)]) == link:
            return link
    return None


def split_between(w: Words, start: int, end: int, firsts: list[int]) -> list[tuple[int, int]]:
    """Cut words [start, end) into one span per step, given the word where each step is first named
    (sorted): at the last comma, slash, link or 'et'/'and' between two consecutive steps' words,
    else at the second one's word. 'livraison rapide, montage bâclé' -> two spans."""
    cuts = [start]
    for here, following in itertools.pairwise(firsts):
        cut = following
        for k in range(following, here, -1):
            if w.before[k] != 0 or (w.words[k] in _LINK_FIRST and _link_at(w.words, k)):
                cut = k  # a punctuation mark before k, or a link ("par contre") opening the second
                break
            if w.words[k] in _STEP_SEPARATORS:
                cut = k + 1
                break
        cuts.append(max(cut, cuts[-1]))
    cuts.append(end)
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


def detect_language(text: str, folded: str | None = None, words: list[str] | None = None) -> str:
    """'fr' or 'en' by function words; French when it cannot tell (the usual case here)."""
    found = words if words is not None else tokens(fold(text) if folded is None else folded)
    french = sum(map(_FRENCH.__contains__, found))
    english = sum(map(_ENGLISH.__contains__, found))
    if french == english:  # short fragments ("Friendly people, good culture"): look at spelling
        french += len(_FRENCH_SPELLING.findall(text.lower()))
        english += len(_ENGLISH_SPELLING.findall(text.lower()))
    return "en" if english > french else "fr"


_FRENCH_SPELLING = re.compile(r"[éèêàùçôî]|eau|eux|oi[rt]|qu[ei]|tion[s]?\b|ement\b")
_ENGLISH_SPELLING = re.compile(r"th|wh|w|y\b|ing\b|ly\b|ful\b")
