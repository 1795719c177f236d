"""Train Miroir's sentiment models offline and write them to processors/models/.

    .venv/bin/pip install scikit-learn   # training only; the worker never needs it
    .venv/bin/python scripts/train_sentiment.py [--data ../shared/data]

French: the Certideal Trustpilot reviews (stars 1-2 negative, 3 neutral, 4-5
positive). English: Glassdoor employee reviews (pros positive, cons negative,
summary by overall rating) and British Airways reviews (rating 0-6 negative,
7-8 neutral, 9-10 positive). One row in five (by a hash of the text) is held
out; the figures printed at the end are on those rows only, beside plain
TextBlob on the same rows.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from processors.sentiment import MODEL_DIR, LinearSentiment, features, held_out, textblob_polarity

NEG, NEU, POS = 0, 1, 2
Row = tuple[str, int]


def stars_class(stars: int) -> int:
    return NEG if stars <= 2 else NEU if stars == 3 else POS


def ten_class(rating: int) -> int:
    return NEG if rating <= 6 else NEU if rating <= 8 else POS


def french_rows(data: Path) -> Iterator[tuple[str, int, str]]:
    """(text, class, review text): titles are extra rows, held out with their review."""
    with (data / "fr_ecommerce_reviews_certideal.csv").open(encoding="utf-8") as source:
        for row in csv.DictReader(source):
            if not (row["Commentaire"].strip() and row["Note client"].isdigit()):
                continue
            review = f"{row['Titre commentaire']}. {row['Commentaire']}".strip(" .")
            label = stars_class(int(row["Note client"]))
            yield review, label, review
            if row["Titre commentaire"].strip():
                yield row["Titre commentaire"].rstrip("…"), label, review


def lexicon_rows(xml: Path) -> list[Row]:
    """TextBlob's own lexicon, one row per clearly polar word: words the reviews lack."""
    rows = []
    for form, value in re.findall(r'<word form="([^"]+)"[^>]*polarity="([-0-9.]+)"', xml.read_text()):
        if abs(float(value)) >= 0.3:
            rows.append((form, POS if float(value) > 0 else NEG))
    return rows


def english_rows(data: Path) -> Iterator[tuple[str, int, str]]:
    for text, label in _english_rows(data):
        yield text, label, text


def _english_rows(data: Path) -> Iterator[Row]:
    with (data / "en_employee_reviews_glassdoor.csv").open(encoding="utf-8") as source:
        for row in csv.DictReader(source):
            for column, label in (("pros", POS), ("Cons", NEG)):
                if len(row[column].strip()) > 3 and not row[column].startswith("#"):
                    yield row[column], label
            if row["summary"].strip() and row["rating Overall"].isdigit() and row["rating Overall"] != "0":
                yield row["summary"], stars_class(int(row["rating Overall"]))
    with (data / "en_airline_reviews_ba.csv").open(encoding="utf-8") as source:
        for row in csv.DictReader(source):
            if row["content"].strip() and row["rating"].isdigit():
                yield (
                    f"{row['header'].strip(chr(34) + '“”')}. {row['content']}",
                    ten_class(int(row["rating"])),
                )


def train(rows: list[Row], language: str, c: float, max_features: int, fit_intercept: bool = False) -> LinearSentiment:
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = CountVectorizer(analyzer=features, min_df=2, max_features=max_features, binary=True)
    # Row norm = sqrt(number of features), which LinearSentiment divides by as well.
    counts = vectorizer.fit_transform([text for text, _ in rows])
    matrix = counts.multiply(1 / np.sqrt(np.maximum(counts.sum(axis=1), 1))).tocsr()
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, fit_intercept=fit_intercept)
    model.fit(matrix, [label for _, label in rows])
    assert list(model.classes_) == [NEG, NEU, POS]
    weights = {
        feature: tuple(round(float(model.coef_[k, i]), 4) for k in range(3))
        for feature, i in vectorizer.vocabulary_.items()
    }
    intercept = tuple(round(float(b), 4) for b in model.intercept_) if fit_intercept else (0.0, 0.0, 0.0)
    return LinearSentiment(language, intercept, weights, provenance="")  # type: ignore[arg-type]


def scores(predicted: list[float], truth: list[int], margin: float) -> tuple[float, float]:
    """Balanced accuracy on negative vs positive rows, and 3-class macro-F1 (|p| < margin neutral)."""
    recall = []
    for cls, wanted in ((NEG, lambda p: p <= 0), (POS, lambda p: p > 0)):
        rows = [p for p, t in zip(predicted, truth, strict=True) if t == cls]
        recall.append(sum(map(wanted, rows)) / len(rows))
    classes = [NEU if abs(p) < margin else POS if p > 0 else NEG for p in predicted]
    f1 = []
    for cls in (NEG, NEU, POS):
        tp = sum(p == cls and t == cls for p, t in zip(classes, truth, strict=True))
        fp = sum(p == cls and t != cls for p, t in zip(classes, truth, strict=True))
        fn = sum(p != cls and t == cls for p, t in zip(classes, truth, strict=True))
        f1.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(recall) / 2, sum(f1) / 3


def staff_word_rows() -> list[Row]:
    path = Path(__file__).parent / "fr_staff_words.txt"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line[:2] in ("+ ", "- "):
            rows.append((line[2:].strip(), POS if line[0] == "+" else NEG))
    return rows


def furniture_rows() -> list[Row]:
    """A small French set of another domain (a furniture store), written for Miroir's tests."""
    path = Path(__file__).parents[1] / "tests" / "fixtures" / "fr_furniture_reviews.csv"
    with path.open(encoding="utf-8") as source:
        return [(row["text"], {"neg": NEG, "neu": NEU, "pos": POS}[row["label"]]) for row in csv.DictReader(source)]


def lexicon_file(language: str) -> Path:
    import textblob
    import textblob_fr

    if language == "fr":
        return Path(textblob_fr.__file__).parent / "fr-sentiment.xml"
    return Path(textblob.__file__).parent / "en" / "en-sentiment.xml"


def evaluate(model: LinearSentiment, rows: list[Row], name: str) -> str:
    truth = [label for _, label in rows]
    mine = scores([model.polarity(t) for t, _ in rows], truth, margin=0.33)
    base = scores([textblob_polarity(t, model.language) for t, _ in rows], truth, margin=0.1)
    return (
        f"{name} ({len(rows)} rows): balanced accuracy {mine[0]:.3f}, macro-F1 {mine[1]:.3f} "
        f"(plain TextBlob: {base[0]:.3f}, {base[1]:.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--c", type=float, default=3.0, help="inverse regularisation strength")
    parser.add_argument("--max-features", type=int, default=40000)
    args = parser.parse_args()
    MODEL_DIR.mkdir(exist_ok=True)
    sources = {
        "fr": "Certideal Trustpilot reviews (Magali863/nov24_bds_supplychain, MIT)",
        "en": "Glassdoor employee reviews (saiteja007-mv/Glassdoor-Companies-Review-Analysis) and "
        "British Airways reviews (RukenDemirel/british-airways-reviews-analysis)",
    }
    for language, rows in (("fr", list(french_rows(args.data))), ("en", list(english_rows(args.data)))):
        lexicon = lexicon_rows(lexicon_file(language)) + (staff_word_rows() if language == "fr" else [])
        training = [(t, label) for t, label, review in rows if not held_out(review)] + lexicon
        test = [(t, label) for t, label, review in rows if held_out(review) and t == review]
        model = train(training, language, args.c, args.max_features)
        figures = [evaluate(model, test, "held-out reviews")]
        if language == "fr":
            figures.append(evaluate(model, furniture_rows(), "furniture-store set, another domain"))
        provenance = (
            f"trained {date.today()} by scripts/train_sentiment.py (C={args.c}) on {len(training)} rows: "
            f"{sources[language]}, plus {len(lexicon)} polar words of TextBlob's {language} lexicon"
            + (" and of scripts/fr_staff_words.txt. " if language == "fr" else ". ")
            + "; ".join(figures)
        )
        LinearSentiment(language, model.intercept, model.weights, provenance).save(
            MODEL_DIR / f"sentiment-{language}.json.gz"
        )
        print(f"{language}: {len(model.weights)} features; {provenance}")


if __name__ == "__main__":
    main()
