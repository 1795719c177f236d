"""`miroir eval FILE`: how right the analysis is on any rated data set, beside plain TextBlob in the same run.

A CSV (delimiter sniffed among , ; tab) or JSONL file; its rating read into a class (negative, neutral,
positive); every row (or a seeded sample) scored by Miroir's full analysis and by plain TextBlob /
TextBlob-fr. The standard suite over ../shared/data is tools/eval_suite.py.
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.columns import Columns
from rich.console import Group
from rich.table import Table

from processors.analysis import read, steps_of
from processors.sentiment import model_for, textblob_polarity
from processors.taxonomy import Journey, TaxonomyError, load_taxonomy
from processors.text import detect_language

NEG, NEU, POS = "negative", "neutral", "positive"
CLASSES = (NEG, NEU, POS)
SCALES = (5, 10, 2, 3)
FALLBACK_MARGIN = 0.3  # Miroir's neutral band when no model is shipped for the language
TEXTBLOB_MARGIN = 0.1  # plain TextBlob's: |polarity| below it is neutral
SHOWN_SKIPS = 5  # row numbers of skipped rows shown
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_CUTS = {5: (2.0, 4.0, 0.5, 5.0), 10: (6.0, 9.0, 0.0, 10.0)}  # negative <= a, positive >= b; valid lo..hi
_LABELS = {
    2: {"0": NEG, "1": POS, "false": NEG, "true": POS, "neg": NEG, "pos": POS, "negatif": NEG, "positif": POS,
        "negative": NEG, "positive": POS, "no": NEG, "yes": POS, "non": NEG, "oui": POS},
    3: {"0": NEG, "1": NEU, "2": POS, "neg": NEG, "neu": NEU, "pos": POS, "negatif": NEG, "neutre": NEU,
        "positif": POS, "negative": NEG, "neutral": NEU, "positive": POS},
}  # fmt: skip
_MEASURES = {"binary accuracy (neg vs pos rows)": "binary_accuracy",
             "binary balanced accuracy": "binary_balanced_accuracy",
             "3-class accuracy": "accuracy3", "3-class macro-F1": "macro_f1"}  # fmt: skip


class EvalError(ValueError):
    """A file, a column, an option or a journey that cannot be used; the message says which."""


@dataclass(frozen=True)
class EvalSet:
    path: Path
    text: str  # column, or columns joined with "+"
    rating: str
    scale: int
    language: str | None = None  # None: detected per row
    journey: str | None = None  # a journey id, or a YAML journey file or folder
    limit: int | None = None  # a seeded random sample of this many rows
    seed: int = 0


@dataclass(frozen=True)
class Row:
    text: str
    truth: str
    record: dict[str, Any]


@dataclass(frozen=True)
class Scores:
    binary_accuracy: float | None
    binary_balanced_accuracy: float | None
    accuracy3: float | None  # None on scale 2: no neutral class
    macro_f1: float | None
    per_s: float
    confusion: dict[str, dict[str, int]]  # true class -> predicted class -> rows


@dataclass(frozen=True)
class FileResult:
    rows: int
    skipped: int  # rows of the whole file with an empty text or an unreadable rating
    skipped_rows: list[int]  # the first few of them
    miroir: Scores
    textblob: Scores
    tagged_share: float | None  # None: no journey given
    seconds: float

    def as_json(self) -> dict[str, Any]:
        figures = {"miroir": asdict(self.miroir), "textblob": asdict(self.textblob)}
        return {"rows": self.rows, "skipped": self.skipped, **figures, "tagged_share": self.tagged_share}


def rating_class(raw: Any, scale: int) -> str | None:
    """The true class of a rating cell, None when it cannot be read. Scales 5 and 10: the cell's first
    number (decimal comma accepted): 5: <= 2 negative, >= 4 positive, 2.5-3.5 neutral; 10: <= 6,
    >= 9, 7-8. Scales 2 and 3: labels, case and accents aside (0/1, true/false, neg/pos...)."""
    text = str(raw).strip() if raw is not None else ""
    if scale in _LABELS:
        label = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
        if re.fullmatch(r"\d+\.0+", label):  # "1.0" from a spreadsheet export
            label = label.split(".")[0]
        return _LABELS[scale].get(label)
    match = _NUMBER.search(text)
    if not match:
        return None
    x = float(match.group().replace(",", "."))
    low, high, floor, ceiling = _CUTS[scale]
    if not floor <= x <= ceiling:
        return None
    return NEG if x <= low else POS if x >= high else NEU


def read_records(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """The file's records, each with its row number (CSV: from 1 after the header; JSONL: its line),
    and the column names it offers (JSONL: the keys and dotted paths of its first objects)."""
    if not path.is_file():
        raise EvalError(f"{path}: no such file")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        records: list[tuple[int, dict[str, Any]]] = []
        with path.open(encoding="utf-8-sig") as source:
            for number, line in enumerate(source, 1):
                if line.strip():
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as error:
                        raise EvalError(f"{path}: line {number} is not JSON: {error}") from None
                    if not isinstance(record, dict):
                        raise EvalError(f"{path}: line {number} is not a JSON object")
                    records.append((number, record))
        return records, sorted({c for _, r in records[:100] for c in _paths(r)})
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8-sig", newline="") as source:
        header = re.sub(r'"[^"]*"', "", source.readline())  # the delimiter: the commonest in the header
        source.seek(0)
        reader = csv.DictReader(source, delimiter=max(",;\t", key=header.count))
        return list(enumerate(reader, 1)), [c for c in reader.fieldnames or [] if c is not None]


def _paths(record: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in record.items():
        out.append(prefix + key)
        if isinstance(value, dict):
            out += _paths(value, f"{prefix}{key}.")
    return out


def cell(record: dict[str, Any], column: str) -> Any:
    """A column's value: a key, or a dotted path into nested objects; None when absent."""
    if column in record:
        return record[column]
    value: Any = record
    for part in column.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def load_rows(item: EvalSet) -> tuple[list[Row], int, list[int]]:
    """The readable rows (all, or a seeded sample of `limit`), and the whole file's skipped rows."""
    records, columns = read_records(item.path)
    texts = [item.text] if item.text in columns else [c.strip() for c in item.text.split("+")]
    wanted = [*texts, item.rating]
    jsonl = item.path.suffix.lower() in (".jsonl", ".ndjson")
    for column in wanted:
        if column not in columns and not (jsonl and any(cell(r, column) is not None for _, r in records)):
            raise EvalError(f"{item.path.name}: no column {column!r}; its columns: {', '.join(columns) or 'none'}")
    rows: list[Row] = []
    skipped: list[int] = []
    for number, record in records:
        parts = [cell(record, c) for c in wanted[:-1]]
        text = ". ".join(str(p).strip() for p in parts if p is not None and str(p).strip())
        truth = rating_class(cell(record, item.rating), item.scale)
        if not text or truth is None:
            skipped.append(number)
            continue
        rows.append(Row(text, truth, record))
    if item.limit is not None and item.limit < len(rows):
        chosen = random.Random(item.seed).sample(range(len(rows)), item.limit)
        rows = [rows[i] for i in sorted(chosen)]
    return rows, len(skipped), skipped[:SHOWN_SKIPS]


def journeys_of(journey: str | None) -> list[Journey]:
    """No journey; the shipped journey of that id; or every journey of a YAML file or folder."""
    if journey is None:
        return []
    try:
        if Path(journey).exists():
            return list(load_taxonomy(Path(journey)).journeys.values())
        shipped = load_taxonomy().journeys
    except TaxonomyError as error:
        raise EvalError(str(error)) from None
    if journey not in shipped:
        raise EvalError(f"no journey {journey!r} (nor such a file); shipped: {', '.join(sorted(shipped))}")
    return [shipped[journey]]


def balanced(pairs: list[tuple[float, bool]]) -> float | None:
    """Balanced accuracy of the sign (> 0: positive) against negative/positive truths; None without both."""
    low = [p for p, good in pairs if not good]
    high = [p for p, good in pairs if good]
    if not low or not high:
        return None
    return round((sum(p <= 0 for p in low) / len(low) + sum(p > 0 for p in high) / len(high)) / 2, 4)


def scores(truth: list[str], polarities: list[float], margins: list[float], scale: int, seconds: float) -> Scores:
    guesses = [NEU if abs(p) < m else POS if p > 0 else NEG for p, m in zip(polarities, margins, strict=True)]
    true_classes = (NEG, POS) if scale == 2 else CLASSES
    confusion = {t: dict.fromkeys(CLASSES, 0) for t in true_classes}
    for t, g in zip(truth, guesses, strict=True):
        confusion[t][g] += 1
    polar = [(p, t == POS) for t, p in zip(truth, polarities, strict=True) if t != NEU]
    accuracy3 = macro_f1 = None
    if scale != 2:
        accuracy3 = round(sum(map(str.__eq__, truth, guesses)) / len(truth), 4)
        f1 = []
        for c in CLASSES:
            tp = confusion[c][c]
            wrong = sum(confusion[t][c] for t in CLASSES if t != c) + sum(confusion[c][g] for g in CLASSES if g != c)
            f1.append(2 * tp / (2 * tp + wrong) if tp else 0.0)
        macro_f1 = round(sum(f1) / 3, 4)
    return Scores(
        binary_accuracy=round(sum((p > 0) == good for p, good in polar) / len(polar), 4) if polar else None,
        binary_balanced_accuracy=balanced(polar),
        accuracy3=accuracy3,
        macro_f1=macro_f1,
        per_s=round(len(truth) / seconds, 1) if seconds > 0 else 0.0,
        confusion=confusion,
    )


def evaluate_file(item: EvalSet) -> FileResult:
    """Every (or the sampled) row of `item`, scored by Miroir and plain TextBlob."""
    if item.scale not in SCALES:
        raise EvalError(f"scale {item.scale}: one of {', '.join(map(str, SCALES))}")
    if item.language not in (None, "fr", "en"):
        raise EvalError(f"language {item.language!r}: fr or en (or none: detected per row)")
    started = time.perf_counter()
    journeys = journeys_of(item.journey)
    rows, skipped, first_skipped = load_rows(item)
    if not rows:
        shown = ", ".join(map(str, first_skipped))
        raise EvalError(f"{item.path.name}: no row with a text and a readable rating ({skipped} skipped: {shown})")
    texts = [r.text for r in rows]
    languages = [item.language or detect_language(t) for t in texts]
    for language in set(languages):  # models and analyzers load outside the timings
        read("warm up", language)
        textblob_polarity("warm up", language)
    clock = time.perf_counter()
    readings = [read(t, lang) for t, lang in zip(texts, languages, strict=True)]
    tagged = [[steps_of(r, j).tagged for j in journeys] for r in readings]
    miroir_s = time.perf_counter() - clock
    clock = time.perf_counter()
    baseline = [textblob_polarity(t, lang) for t, lang in zip(texts, languages, strict=True)]
    textblob_s = time.perf_counter() - clock
    margins = [m.neutral_margin if (m := model_for(lang)) else FALLBACK_MARGIN for lang in languages]
    truth = [r.truth for r in rows]
    return FileResult(
        rows=len(rows),
        skipped=skipped,
        skipped_rows=first_skipped,
        miroir=scores(truth, [r.polarity for r in readings], margins, item.scale, miroir_s),
        textblob=scores(truth, baseline, [TEXTBLOB_MARGIN] * len(rows), item.scale, textblob_s),
        tagged_share=round(sum(map(any, tagged)) / len(rows), 4) if journeys else None,
        seconds=round(time.perf_counter() - started, 2),
    )


def figure(value: float | None, percent: bool = True) -> str:
    return "-" if value is None else f"{value:.1%}" if percent else f"{value:,.0f}"


def file_tables(result: FileResult, title: str) -> Group:
    """The side-by-side figures, both confusion matrices and the skipped rows, for a console."""
    table = Table("measure", "Miroir", "plain TextBlob", title=title, title_justify="left")
    m, b = result.miroir, result.textblob
    table.add_row("rows", f"{result.rows:,}", f"{result.rows:,}")
    for label, key in _MEASURES.items():
        table.add_row(label, figure(getattr(m, key)), figure(getattr(b, key)))
    table.add_row("verbatims/s", figure(m.per_s, False), figure(b.per_s, False))
    table.add_row("tagged with a step", figure(result.tagged_share), "-")
    matrices = []
    for name, found in (("Miroir", m), ("plain TextBlob", b)):
        matrix = Table("true \\ predicted", *CLASSES, title=f"{name}: confusion", title_justify="left")
        for truth, row in found.confusion.items():
            matrix.add_row(truth, *(f"{row[c]:,}" for c in CLASSES))
        matrices.append(matrix)
    parts: list[Any] = [table, Columns(matrices)]
    if result.skipped:
        shown = ", ".join(map(str, result.skipped_rows)) + (", ..." if result.skipped > SHOWN_SKIPS else "")
        parts.append(f"skipped {result.skipped:,} rows of the file (empty text or unreadable rating): rows {shown}")
    return Group(*parts)
