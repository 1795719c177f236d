"""`miroir eval` without a FILE: the standard suite over ../shared/data, and two checks beside it.

- Every file of tools/eval_sets.yaml, scored by tools/evaluate.py (Miroir beside plain TextBlob).
- Per-step polarity vs the airline's 1-5 sub-ratings: how often the step's sign agrees (1-2 vs 4-5)
  and its rank correlation; plain TextBlob can only offer the whole review's polarity for every step.
- The mixed-verbatim fixture (tests/fixtures/mixed_verbatims.csv): the share of step signs right,
  French and English apart (a step Miroir does not find counts as wrong); TextBlob: the whole text's sign.
One summary table for the console, and in Markdown between two marker lines of README.md (`--readme`).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rich.console import Group
from rich.table import Table

from processors.analysis import analyse
from processors.sentiment import textblob_polarity
from processors.taxonomy import load_taxonomy
from processors.text import detect_language
from tools.evaluate import EvalError, EvalSet, FileResult, balanced, evaluate_file, figure, journeys_of, load_rows

ROOT = Path(__file__).resolve().parents[1]
SUITE = Path(__file__).with_name("eval_sets.yaml")
DEFAULT_DATA = ROOT.parent / "shared" / "data"
FIXTURE = ROOT / "tests" / "fixtures" / "mixed_verbatims.csv"
README = ROOT / "README.md"
BEGIN, END = "<!-- eval:begin -->", "<!-- eval:end -->"
SUMMARY = ("file (domain)", "rows", "Miroir\nbinary balanced", "Miroir\nmacro-F1", "TextBlob\nbinary balanced",
           "TextBlob\nmacro-F1", "tagged", "Miroir/s vs\nTextBlob/s")  # fmt: skip
PER_STEP = ("sub-rating (mentions)", "Miroir sign agreement", "Miroir Spearman",
            "TextBlob whole-text sign agreement", "TextBlob whole-text Spearman")  # fmt: skip
MIXED = ("language", "step signs", "Miroir right", "TextBlob right (whole text's sign)")


@dataclass(frozen=True)
class SuiteResult:
    files: list[tuple[str, str, FileResult | None]]  # file, domain, figures (None: file missing)
    per_step: dict[str, dict[str, Any]] | None
    mixed: dict[str, dict[str, int]]
    sample: str  # "all rows" or the sample's size and seed
    seconds: float

    def as_json(self) -> dict[str, Any]:
        files = {name: result.as_json() if result else None for name, _, result in self.files}
        return {"files": files, "per_step": self.per_step, "mixed_verbatims": self.mixed, "sample": self.sample}


def _entry(spec: Any, data: Path, limit: int | None, seed: int) -> EvalSet:
    try:
        language, journey = spec.get("language"), spec.get("journey")
        return EvalSet(
            data / spec["file"], spec["text"], spec["rating"], int(spec["scale"]), language, journey, limit, seed
        )
    except (KeyError, TypeError, ValueError) as error:
        raise EvalError(f"{SUITE.name}: entry {spec!r} lacks or misreads {error}") from None


def load_suite(data: Path, limit: int | None = None, seed: int = 0, path: Path = SUITE) -> dict[str, Any]:
    """{"sets": [(EvalSet, domain)], "per_step": (EvalSet, {sub-rating column: step}) or None}."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    sets = [(_entry(spec, data, limit, seed), str(spec.get("domain", ""))) for spec in document["sets"]]
    check = document.get("per_step")
    return {"sets": sets, "per_step": (_entry(check, data, limit, seed), check["sub_ratings"]) if check else None}


def spearman(xs: list[float], ys: list[float]) -> float:
    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=values.__getitem__)
        out = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for k in range(i, j + 1):
                out[order[k]] = (i + j) / 2
            i = j + 1
        return out

    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    var = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return round(cov / var, 3) if var else 0.0


def per_step(item: EvalSet, sub_ratings: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each sub-rating (1-5; 0 or empty: not given) beside the polarity of the step it grades, on the
    reviews that name that step; TextBlob's whole-text polarity beside the same ratings."""
    journey = journeys_of(item.journey)[0]
    rows, _, _ = load_rows(item)
    pairs: dict[str, list[tuple[float, float, int]]] = {column: [] for column in sub_ratings}
    for row in rows:
        language = item.language or detect_language(row.text)
        by_step = {s.step_id: s.polarity for s in analyse(row.text, journey, language).steps}
        whole = textblob_polarity(row.text, language)
        for column, step in sub_ratings.items():
            rating = str(row.record.get(column) or "").strip()
            if rating.isdigit() and rating != "0" and step in by_step:
                pairs[column].append((by_step[step], whole, int(rating)))
    out = {}
    for column, found in pairs.items():
        polar = [(m, b, r >= 4) for m, b, r in found if r != 3]
        ratings = [float(r) for *_, r in found]
        out[column] = {
            "mentions": len(found),
            "miroir_sign_agreement": balanced([(m, good) for m, _, good in polar]),
            "miroir_spearman": spearman([m for m, _, _ in found], ratings) if found else None,
            "textblob_whole_text_sign_agreement": balanced([(b, good) for _, b, good in polar]),
            "textblob_whole_text_spearman": spearman([b for _, b, _ in found], ratings) if found else None,
        }
    return out


def mixed_check(fixture: Path = FIXTURE) -> dict[str, dict[str, int]]:
    """Per language: step signs expected, right by Miroir's step polarity (a step not found is wrong),
    right by TextBlob's whole-text sign, and steps Miroir found."""
    journeys = load_taxonomy().journeys
    out: dict[str, dict[str, int]] = {}
    with fixture.open(encoding="utf-8", newline="") as source:
        for row in csv.DictReader(source):
            language = row["language"]
            found = {s.step_id: s.polarity for s in analyse(row["text"], journeys[row["journey"]], language).steps}
            whole = textblob_polarity(row["text"], language) > 0
            tally = out.setdefault(language, {"steps": 0, "miroir_right": 0, "textblob_right": 0, "found": 0})
            for entry in row["expected"].split(";"):
                step, sign = entry.split(":")
                tally["steps"] += 1
                tally["found"] += step in found
                tally["miroir_right"] += step in found and (found[step] > 0) == (sign == "+")
                tally["textblob_right"] += whole == (sign == "+")
    return out


def run_suite(
    data: Path, limit: int | None, seed: int, progress: Callable[[str], None], suite_file: Path = SUITE
) -> SuiteResult:
    if not data.is_dir():
        raise EvalError(f"the data folder {data} does not exist (--data)")
    started = time.perf_counter()
    suite = load_suite(data, limit, seed, suite_file)
    files: list[tuple[str, str, FileResult | None]] = []
    for item, domain in suite["sets"]:
        name = str(item.path.relative_to(data))
        if not item.path.exists():
            progress(f"{name}: missing, left out")
            files.append((name, domain, None))
            continue
        result = evaluate_file(item)
        progress(f"{name}: {result.rows:,} rows ({result.skipped:,} skipped) in {result.seconds:.1f} s")
        files.append((name, domain, result))
    check = suite["per_step"]
    steps = None
    if check and check[0].path.exists():
        clock = time.perf_counter()
        steps = per_step(*check)
        progress(f"per-step polarity vs the airline sub-ratings in {time.perf_counter() - clock:.1f} s")
    clock = time.perf_counter()
    mixed = mixed_check() if FIXTURE.exists() else {}
    progress(f"mixed-verbatim fixture in {time.perf_counter() - clock:.1f} s")
    sample = "all rows" if limit is None else f"a sample of {limit:,} rows of each file, seed {seed}"
    return SuiteResult(files, steps, mixed, sample, round(time.perf_counter() - started, 1))


def _mean(values: list[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return sum(found) / len(found) if found else None


def summary_rows(result: SuiteResult, markdown: bool = False) -> list[tuple[str, ...]]:
    rows = []
    done = [r for _, _, r in result.files if r]
    for name, domain, r in result.files:
        label = f"`{name}` ({domain})" if markdown else f"{name}\n[dim]{domain}[/]"
        if r is None:
            rows.append((label, "missing", *["-"] * 6))
            continue
        m, b = r.miroir, r.textblob
        rows.append(
            (
                label,
                f"{r.rows:,}",
                figure(m.binary_balanced_accuracy),
                figure(m.macro_f1),
                figure(b.binary_balanced_accuracy),
                figure(b.macro_f1),
                figure(r.tagged_share),
                f"{m.per_s:,.0f} vs {b.per_s:,.0f}",
            )
        )
    if done:
        means = [
            _mean([getattr(getattr(r, who), key) for r in done])
            for who in ("miroir", "textblob")
            for key in ("binary_balanced_accuracy", "macro_f1")
        ]
        speeds = f"{_mean([r.miroir.per_s for r in done]):,.0f} vs {_mean([r.textblob.per_s for r in done]):,.0f}"
        tagged = _mean([r.tagged_share for r in done])
        rows.append(
            (
                "mean of the files (unweighted)",
                f"{sum(r.rows for r in done):,}",
                *map(figure, means),
                figure(tagged),
                speeds,
            )
        )
    return rows


def check_rows(result: SuiteResult) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    steps: list[tuple[str, ...]] = []
    for column, f in (result.per_step or {}).items():
        miroir = (figure(f["miroir_sign_agreement"]), str(f["miroir_spearman"]))
        whole = (figure(f["textblob_whole_text_sign_agreement"]), str(f["textblob_whole_text_spearman"]))
        steps.append((f"{column} ({f['mentions']:,})", *miroir, *whole))
    mixed: list[tuple[str, ...]] = []
    for language, t in sorted(result.mixed.items()):
        right = f"{t['miroir_right'] / t['steps']:.1%} ({t['found']:,} steps found)"
        mixed.append((language, f"{t['steps']:,}", right, f"{t['textblob_right'] / t['steps']:.1%}"))
    return steps, mixed


def caption(result: SuiteResult) -> str:
    return (
        f"`miroir eval` on every rated file of ../shared/data (tools/eval_sets.yaml), {result.sample}. These are "
        "the files the shipped sentiment model was trained on: the figures are in-sample (the held-out figures "
        "are the training script's leave-one-domain-out ones); the mixed-verbatim fixture and the airline "
        "per-step check are the exceptions, never seen as such in training. Binary balanced: negative vs "
        "positive rows, by the polarity's sign; macro-F1: three classes (stars 1-2 / 3 / 4-5, on 1-10: 1-6 / "
        "7-8 / 9-10), Miroir's neutral band the model's margin, TextBlob's 0.1; tagged: rows with at least one "
        "step of the file's journey (- : none fits); verbatims/s on one core, Miroir's full analysis "
        "(reading and steps) vs TextBlob's polarity."
    )


def suite_tables(result: SuiteResult) -> Group:
    tables: list[Any] = [caption(result)]
    steps, mixed = check_rows(result)
    for title, header, rows in (
        ("Miroir eval: the standard suite", SUMMARY, summary_rows(result)),
        ("Per-step polarity vs the airline sub-ratings (steps named in the review)", PER_STEP, steps),
        ("Mixed verbatims: step signs right (tests/fixtures/mixed_verbatims.csv)", MIXED, mixed),
    ):
        table = Table(*header, title=title, title_justify="left")
        table.columns[0].no_wrap = True
        for row in rows:
            table.add_row(*row)
        tables.append(table)
    tables.append(f"suite run in {result.seconds:,.0f} s")
    return Group(*tables)


def _markdown(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header).replace("\n", " ") + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]


def suite_markdown(result: SuiteResult) -> str:
    steps, mixed = check_rows(result)
    lines = [caption(result), "", *_markdown(SUMMARY, summary_rows(result, markdown=True)), ""]
    lines += ["Per-step polarity vs the airline sub-ratings:", "", *_markdown(PER_STEP, steps), ""]
    lines += ["Mixed verbatims, step signs right:", "", *_markdown(MIXED, mixed)]
    return "\n".join(lines)


def readme_markers(readme: Path = README) -> tuple[list[str], int, int]:
    """README's lines and the indices of its marker lines; an error when they are not there, in order."""
    lines = readme.read_text(encoding="utf-8").splitlines() if readme.exists() else []
    marks = [next((i for i, line in enumerate(lines) if line.strip() == mark), -1) for mark in (BEGIN, END)]
    if min(marks) < 0 or marks[0] > marks[1]:
        raise EvalError(f"{readme}: no {BEGIN} line followed by an {END} line; add them where the table goes")
    return lines, marks[0], marks[1]


def write_readme(markdown: str, readme: Path = README) -> None:
    """Replace what lies between the marker lines with `markdown`."""
    lines, begin, end = readme_markers(readme)
    readme.write_text("\n".join([*lines[: begin + 1], "", markdown, "", *lines[end:]]) + "\n", encoding="utf-8")
