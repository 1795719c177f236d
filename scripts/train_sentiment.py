"""Train Miroir's sentiment models offline, report leave-one-domain-out figures, write the weights.

    make train          # = pip install scikit-learn (training only), then this script
    .venv/bin/python scripts/train_sentiment.py [--data ../shared/data] [--seed 7] [--c 0.5,1,2]

Every review file of ../shared/data (scripts/sentiment_data.py reads them: domains, scales, traps),
French and English apart. For each domain of a language, a model is trained without it and scored
on it (leave one domain out: never a random split, which would leak a restaurant's or an
employer's words into its own test); the regularisation (C) and the neutral band of the polarity
are those with the best mean of those held-out figures (reviews' balanced binary and macro-F1,
plus the balanced binary of the held-out pros and cons rows, short one-judgement texts like the
clauses a step is read from). The shipped model is then trained on every
domain with them, and its provenance holds the figures. Rows are weighed so that each domain
counts alike (28,000 restaurant reviews would otherwise teach mostly restaurants). Seeded and
deterministic: the same data gives the same weights.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

from processors.sentiment import FEATURES_VERSION, MODEL_DIR, LinearSentiment, features, textblob_polarity
from scripts.sentiment_data import DOMAINS, NEG, NEU, POS, Review, load_all

# The domains a model is judged on (the others only teach): customer and service domains, staff.
JUDGED = {
    "fr": ["ecommerce", "public_services", "healthcare", "hotels", "restaurants", "food_delivery", "employees"],
    "en": ["en_airline", "en_employees"],
}
MARGINS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45)  # |polarity| below: neutral
MAX_ROWS_PER_DOMAIN = 12_000  # a sample of the largest domains: the same information, a quarter of the time


def lexicon_rows(language: str) -> list[Review]:
    """TextBlob's own lexicon, one row per clearly polar word (words the reviews may lack), and for
    French the staff words of scripts/fr_staff_words.txt."""
    import textblob
    import textblob_fr

    xml = (
        Path(textblob_fr.__file__).parent / "fr-sentiment.xml"
        if language == "fr"
        else Path(textblob.__file__).parent / "en" / "en-sentiment.xml"
    )
    rows = []
    for form, value in re.findall(r'<word form="([^"]+)"[^>]*polarity="([-0-9.]+)"', xml.read_text()):
        if abs(float(value)) >= 0.3:
            label = POS if float(value) > 0 else NEG
            rows.append(Review(form, label, True, "lexicon", "lexicon", language, "lexicon"))
    if language == "fr":
        for line in (Path(__file__).parent / "fr_staff_words.txt").read_text(encoding="utf-8").splitlines():
            if line[:2] in ("+ ", "- "):
                label = POS if line[0] == "+" else NEG
                rows.append(Review(line[2:].strip(), label, True, "lexicon", "staff-words", language, "lexicon"))
    return rows


def domain_weights(rows: list[Review]) -> list[float]:
    """Each domain's rows weigh as much in all as the median domain's (lexicon rows: 1 each), and
    within a domain each class as much as the others: most domains are four-fifths praise, and a
    model taught so would call a complaint from a new domain praise."""
    sizes = Counter(r.domain for r in rows if r.domain != "lexicon")
    classes = Counter((r.domain, r.label) for r in rows)
    median = sorted(sizes.values())[len(sizes) // 2]
    out = []
    for r in rows:
        if r.domain == "lexicon":
            out.append(1.0)
            continue
        present = sum(1 for label in (NEG, NEU, POS) if classes[r.domain, label])
        share = sizes[r.domain] / (present * classes[r.domain, r.label])  # 1 when the classes are even
        out.append(median / sizes[r.domain] * min(share, 10.0))  # a rare class weighs at most 10x
    return out


def sample(rows: list[Review], seed: int) -> list[Review]:
    """At most MAX_ROWS_PER_DOMAIN rows of a domain, whole entities at a time (a seeded draw)."""
    import random

    out: list[Review] = []
    by_domain: dict[str, list[Review]] = {}
    for r in rows:
        by_domain.setdefault(r.domain, []).append(r)
    for domain, found in sorted(by_domain.items()):
        if len(found) <= MAX_ROWS_PER_DOMAIN:
            out += found
            continue
        entities = sorted({r.entity for r in found})
        random.Random(f"{seed}:{domain}").shuffle(entities)
        kept: set[str] = set()
        count = Counter(r.entity for r in found)
        total = 0
        for entity in entities:
            if total >= MAX_ROWS_PER_DOMAIN:
                break
            kept.add(entity)
            total += count[entity]
        out += [r for r in found if r.entity in kept]
    return out


class Corpus:
    """Rows vectorised once: counts of `features`, each row L2-normalised over its features as
    LinearSentiment does at run time. A feature held by one row only is dropped."""

    def __init__(self, rows: list[Review]) -> None:
        import numpy as np
        from sklearn.feature_extraction.text import CountVectorizer

        self.rows = rows
        self.vectorizer = CountVectorizer(analyzer=features, min_df=2)
        counts = self.vectorizer.fit_transform([r.text for r in rows])
        self.matrix = counts.multiply(1 / np.sqrt(np.maximum(counts.sum(axis=1), 1))).tocsr()
        self.labels = np.array([r.label for r in rows])
        self.weights = np.array(domain_weights(rows))

    def fit(self, keep: Any, c: float, seed: int) -> LinearSentiment:
        from sklearn.linear_model import LogisticRegression

        # No intercept: a clause of three words is judged by its words, not by the base rate of the
        # reviews (with one, short factual clauses leaned to the more frequent complaint).
        model = LogisticRegression(C=c, max_iter=2000, random_state=seed, fit_intercept=False)
        model.fit(self.matrix[keep], self.labels[keep], sample_weight=self.weights[keep])
        assert list(model.classes_) == [NEG, NEU, POS]
        names = self.vectorizer.get_feature_names_out()
        coef = model.coef_
        weights = {
            str(names[i]): (round(float(coef[0, i]), 4), round(float(coef[1, i]), 4), round(float(coef[2, i]), 4))
            for i in range(len(names))
            if any(abs(coef[k, i]) >= 5e-4 for k in range(3))  # a feature that weighs nothing ships nothing
        }
        return LinearSentiment(self.rows[0].language, (0.0, 0.0, 0.0), weights, provenance="")


def figures(polarities: list[float], rows: list[Review], margin: float) -> dict[str, float]:
    """Balanced binary accuracy (negative vs positive rows), and 3-class macro-F1 where a neutral
    class exists (|polarity| < margin: neutral)."""
    recall = []
    for cls, wanted in ((NEG, lambda p: p <= 0), (POS, lambda p: p > 0)):
        found = [p for p, r in zip(polarities, rows, strict=True) if r.label == cls]
        recall.append(sum(map(wanted, found)) / len(found) if found else 0.0)
    out = {"rows": float(len(rows)), "binary_balanced": sum(recall) / 2}
    three = [(p, r.label) for p, r in zip(polarities, rows, strict=True) if not r.binary_only]
    if any(label == NEU for _, label in three):
        classes = [(NEU if abs(p) < margin else POS if p > 0 else NEG, t) for p, t in three]
        f1 = []
        for cls in (NEG, NEU, POS):
            tp = sum(p == cls and t == cls for p, t in classes)
            fp = sum(p == cls and t != cls for p, t in classes)
            fn = sum(p != cls and t == cls for p, t in classes)
            f1.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
        out["macro_f1"] = sum(f1) / 3
    return out


def held_rows(rows: list[Review], key: str) -> list[Review]:
    """A held-out domain's review rows, or (`<domain>:clauses`) its pros and cons rows."""
    domain, _, clauses = key.partition(":")
    wanted = ("pros", "cons") if clauses else ("review",)
    return [r for r in rows if r.domain == domain and r.part in wanted]


def leave_one_domain_out(corpus: Corpus, language: str, c: float, seed: int) -> dict[str, list[float]]:
    """domain -> the held-out polarities of its review rows (and `<domain>:clauses` -> of its pros
    and cons rows), from a model trained without it."""
    import numpy as np

    held: dict[str, list[float]] = {}
    for domain in JUDGED[language]:
        keep = np.array([r.domain != domain for r in corpus.rows])
        if keep.all():
            continue
        model = corpus.fit(keep, c, seed)
        tested = [r for r in corpus.rows if r.domain == domain and r.part == "review"]
        held[domain] = [model.polarity(r.text) for r in tested]
        parts = [r for r in corpus.rows if r.domain == domain and r.part in ("pros", "cons")]
        if parts:  # short single-judgement texts: how the model reads a clause, not a review
            held[f"{domain}:clauses"] = [model.polarity(r.text) for r in parts]
        print(f"  {language} C={c}: without {domain}: {len(tested):,} rows scored", flush=True)
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).parents[2] / "shared" / "data")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--c", default="0.5,1,2", help="values of C to try (inverse regularisation)")
    parser.add_argument("--languages", default="fr,en")
    args = parser.parse_args()
    started = time.monotonic()
    reviews = load_all(args.data)
    MODEL_DIR.mkdir(exist_ok=True)
    for language in args.languages.split(","):
        rows = sample([r for r in reviews if r.language == language], args.seed) + lexicon_rows(language)
        print(f"{language}: {len(rows):,} rows, domains {dict(Counter(r.domain for r in rows))}", flush=True)
        corpus = Corpus(rows)
        best: tuple[float, float, float, dict[str, dict[str, float]]] | None = None
        for c in (float(v) for v in args.c.split(",")):
            held = leave_one_domain_out(corpus, language, c, args.seed)
            for margin in MARGINS:
                table = {d: figures(p, held_rows(rows, d), margin) for d, p in held.items()}
                whole = [t for d, t in table.items() if ":" not in d]
                clauses = [t["binary_balanced"] for d, t in table.items() if ":" in d]
                mean = sum(t["binary_balanced"] + t.get("macro_f1", t["binary_balanced"]) for t in whole) / len(
                    whole
                ) + (sum(clauses) / len(clauses) if clauses else 0.0)
                if best is None or mean > best[0]:
                    best = (mean, c, margin, table)
        assert best is not None
        _, c, margin, table = best
        baseline = {}
        for domain in table:
            tested = held_rows(rows, domain)[:3000]
            baseline[domain] = figures([textblob_polarity(r.text, language) for r in tested], tested, 0.1)
        model = corpus.fit(slice(None), c, args.seed)
        report = "; ".join(
            f"{d} ({int(t['rows']):,} rows): balanced binary {t['binary_balanced']:.3f}"
            + (f", macro-F1 {t['macro_f1']:.3f}" if "macro_f1" in t else "")
            + f" (plain TextBlob {baseline[d]['binary_balanced']:.3f}"
            + (f", {baseline[d]['macro_f1']:.3f})" if "macro_f1" in baseline[d] else ")")
            for d, t in table.items()
        )
        sources = sorted({r.source for r in rows if r.domain != "lexicon"})
        provenance = (
            f"trained {date.today()} by scripts/train_sentiment.py (features v{FEATURES_VERSION}, C={c}, seed "
            f"{args.seed}) on {len(rows):,} rows of {', '.join(sources)} in ../shared/data (each domain weighed "
            f"alike; public reviews, see ../shared/data/README.md and fr/README.md for sources and licences: "
            f"no text ships, only these weights) plus polar words of TextBlob's {language} lexicon. "
            f"Neutral band |polarity| < {margin}. Leave-one-domain-out (held-out domain never trained on): {report}"
        )
        shipped = LinearSentiment(language, model.intercept, model.weights, provenance, neutral_margin=margin)
        shipped.save(MODEL_DIR / f"sentiment-{language}.json.gz")
        print(f"{language}: {len(model.weights):,} features; {provenance}", flush=True)
    print(f"trained in {time.monotonic() - started:.0f}s; domains known: {', '.join(DOMAINS)}")


if __name__ == "__main__":
    main()
