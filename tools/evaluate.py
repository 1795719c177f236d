"""`miroir eval`: how right the analysis is on real reviews, beside plain TextBlob in the same run.

- Customer state from the text alone vs the stars (1-2 dissatisfied, 3 neutral,
  4-5 enchanted; on 1-10: 1-6, 7-8, 9-10), French and English apart: accuracy,
  macro-F1, balanced binary accuracy (dissatisfied vs enchanted), confusion matrix.
- Per-step polarity vs the airline sub-ratings (1-5): how often its sign agrees
  (1-2 vs 4-5) and its rank correlation; plain TextBlob can only offer the
  whole review's polarity for every step.
- Share of verbatims tagged with at least one step.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.table import Table

from processors.analysis import analyse
from processors.sentiment import held_out, textblob_polarity
from processors.taxonomy import load_taxonomy
from processors.text import detect_language

STATES = ("dissatisfied", "neutral", "enchanted")
SUB_RATINGS = {
    "ground_service": "ground_service",
    "cabin_staff_service": "cabin_staff_service",
    "food_&_beverages": "food_beverages",
    "seat_comfort": "seat_comfort",
}
MIROIR_MARGIN, TEXTBLOB_MARGIN = 0.33, 0.1  # |polarity| below: neutral (each scorer's best on held-out data)


def state_of(polarity: float, margin: float) -> str:
    return "neutral" if abs(polarity) < margin else "enchanted" if polarity > 0 else "dissatisfied"


def stars_state(stars: int, scale: int) -> str:
    if scale == 5:
        return STATES[0] if stars <= 2 else STATES[1] if stars == 3 else STATES[2]
    return STATES[0] if stars <= 6 else STATES[1] if stars <= 8 else STATES[2]


def classification(truth: list[str], polarities: list[float], margin: float) -> dict[str, Any]:
    predicted = [state_of(p, margin) for p in polarities]
    matrix = {t: {p: 0 for p in STATES} for t in STATES}
    for t, p in zip(truth, predicted, strict=True):
        matrix[t][p] += 1
    f1 = []
    for s in STATES:
        tp = matrix[s][s]
        fp = sum(matrix[t][s] for t in STATES if t != s)
        fn = sum(matrix[s][p] for p in STATES if p != s)
        f1.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    binary = [(p, t == "enchanted") for t, p in zip(truth, polarities, strict=True) if t != "neutral"]
    return {
        "rows": len(truth),
        "accuracy": round(sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth), 3),
        "macro_f1": round(sum(f1) / 3, 3),
        "binary_balanced_accuracy": _agreement([(p, 5 if good else 1) for p, good in binary]),
        "binary_rows": len(binary),
        "confusion": matrix,
    }


def _spearman(xs: list[float], ys: list[float]) -> float:
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


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as source:
        return list(csv.DictReader(source))


def customer_states(rows: list[tuple[str, str]], journey: str, language: str) -> dict[str, Any]:
    taxonomy = load_taxonomy()
    truth = [state for _, state in rows]
    analyses = [analyse(text, taxonomy.journeys[journey], language) for text, _ in rows]
    baseline = [textblob_polarity(text, language) for text, _ in rows]
    return {
        "language_detected": round(sum(detect_language(text) == language for text, _ in rows) / len(rows), 4),
        "miroir": classification(truth, [a.polarity for a in analyses], MIROIR_MARGIN),
        "textblob": classification(truth, baseline, TEXTBLOB_MARGIN),
        "tagged_share": round(sum(a.tagged for a in analyses) / len(analyses), 3),
    }


def per_step(airline_rows: list[dict[str, str]]) -> dict[str, Any]:
    journey = load_taxonomy().journeys["air_travel"]
    pairs: dict[str, list[tuple[float, float, int]]] = {column: [] for column in SUB_RATINGS}
    for row in airline_rows:
        text = _airline_text(row)
        analysis = analyse(text, journey, "en")
        by_step = {s.step_id: s.polarity for s in analysis.steps}
        whole = textblob_polarity(text, "en")
        for column, step in SUB_RATINGS.items():
            if row[column].isdigit() and row[column] != "0" and step in by_step:
                pairs[column].append((by_step[step], whole, int(row[column])))
    out = {}
    for column, found in pairs.items():
        polar = [(m, b, r) for m, b, r in found if r != 3]
        out[column] = {
            "mentions": len(found),
            "miroir_sign_agreement": _agreement([(m, r) for m, _, r in polar]),
            "textblob_whole_text_sign_agreement": _agreement([(b, r) for _, b, r in polar]),
            "miroir_spearman": _spearman([m for m, _, _ in found], [float(r) for *_, r in found]) if found else None,
            "textblob_whole_text_spearman": _spearman([b for _, b, _ in found], [float(r) for *_, r in found])
            if found
            else None,
        }
    return out


def _agreement(pairs: list[tuple[float, int]]) -> float | None:
    """Balanced agreement of the sign with 1-2 vs 4-5."""
    low = [p for p, r in pairs if r <= 2]
    high = [p for p, r in pairs if r >= 4]
    if not low or not high:
        return None
    return round((sum(p <= 0 for p in low) / len(low) + sum(p > 0 for p in high) / len(high)) / 2, 3)


def _airline_text(row: dict[str, str]) -> str:
    return f"{row['header'].strip(chr(34) + '“”')}. {row['content']}"


def run_eval(
    french: Path, airline: Path, limit: int, progress: Callable[[str], None], held_out_only: bool = True
) -> dict[str, Any]:
    """`held_out_only`: only the rows the sentiment models were not trained on."""
    results: dict[str, Any] = {"rows": "held-out only (never trained on)" if held_out_only else "all rows"}
    if french.exists():
        progress(f"French reviews: {french}")
        rows = [
            (f"{r['Titre commentaire']}. {r['Commentaire']}".strip(" ."), stars_state(int(r["Note client"]), 5))
            for r in _read(french)
            if r["Commentaire"].strip() and r["Note client"].isdigit()
        ]
        rows = [row for row in rows if not held_out_only or held_out(row[0])][:limit]
        results["fr_customer_state"] = customer_states(rows, "phone_shop", "fr")
    if airline.exists():
        progress(f"English reviews: {airline}")
        airline_rows = [r for r in _read(airline) if not held_out_only or held_out(_airline_text(r))][:limit]
        rows = [(_airline_text(r), stars_state(int(r["rating"]), 10)) for r in airline_rows if r["rating"].isdigit()]
        results["en_customer_state"] = customer_states(rows, "air_travel", "en")
        progress("per-step polarity vs the airline sub-ratings")
        results["en_per_step"] = per_step(airline_rows)
    if not results:
        raise FileNotFoundError(f"neither {french} nor {airline} exists")
    return results


def eval_tables(results: dict[str, Any]) -> Table:
    table = Table(
        "data", "measure", "Miroir", "plain TextBlob", title=f"Miroir eval ({results['rows']})", title_justify="left"
    )
    for key, label in (("fr_customer_state", "French reviews"), ("en_customer_state", "English airline reviews")):
        if key not in results:
            continue
        mine, base = results[key]["miroir"], results[key]["textblob"]
        for measure in ("binary_balanced_accuracy", "accuracy", "macro_f1"):
            table.add_row(
                f"{label} ({mine['rows']})", f"customer state: {measure}", str(mine[measure]), str(base[measure])
            )
        table.add_row(label, "tagged with a step", f"{results[key]['tagged_share']:.0%}", "-")
        table.add_row(label, "language detected right", f"{results[key]['language_detected']:.1%}", "-")
    for column, f in results.get("en_per_step", {}).items():
        table.add_row(
            f"airline: {column} ({f['mentions']})",
            "sign agreement / Spearman",
            f"{f['miroir_sign_agreement']} / {f['miroir_spearman']}",
            f"{f['textblob_whole_text_sign_agreement']} / {f['textblob_whole_text_spearman']} (whole text)",
        )
    return table
