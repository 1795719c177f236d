"""`miroir eval`: small self-made CSV and JSONL files, really parsed and really scored."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from miroir.cli import app
from processors.taxonomy import load_taxonomy
from tools.eval_suite import (
    DEFAULT_DATA,
    load_suite,
    mixed_check,
    per_step,
    readme_markers,
    run_suite,
    suite_markdown,
    write_readme,
)
from tools.evaluate import CLASSES, SCALES, EvalError, EvalSet, evaluate_file, load_rows, rating_class

# title, body, rating (1-5 in various spellings): clear praise or clear complaint, and one lukewarm row.
CLEAR = [
    ("Parfait", "Livraison rapide, téléphone parfait, je recommande vivement ce vendeur.", "5"),
    ("", "Très satisfait, produit impeccable et service client au top.", "4,0"),
    ("Super soirée", "Excellent accueil, repas délicieux, une très belle soirée.", "5 étoiles"),
    ("Great", "Great service, fast delivery, I highly recommend them.", "5"),
    ("", "Excellent food and friendly staff, a wonderful evening.", "4.5"),
    ("Arnaque", "Colis jamais reçu et aucun remboursement, à fuir.", "1 étoile"),
    ("", "Service client injoignable, produit défectueux, très déçu.", "2"),
    ("Honteux", "Personnel désagréable et attente interminable.", "1,0"),
    ("", "Terrible experience, rude staff and my bag was lost.", "1"),
    ("Awful", "The worst flight ever, never again.", "2.0"),
    ("", "Correct, sans plus.", "3"),
]
JSON_KEYS = {"rows", "skipped", "miroir", "textblob", "tagged_share"}
SCORE_KEYS = {"binary_accuracy", "binary_balanced_accuracy", "accuracy3", "macro_f1", "per_s", "confusion"}


def write_csv(path: Path, header: list[str], rows: Sequence[Sequence[str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["eval", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_miroir_gets_the_clear_rows_right_and_each_confusion_matrix_sums_to_the_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "clear.csv", ["titre", "avis", "note"], CLEAR, delimiter=";")
    result = evaluate_file(EvalSet(path, "titre+avis", "note", 5))  # language detected per row
    assert (result.rows, result.skipped) == (11, 0)
    assert result.miroir.binary_accuracy == result.miroir.binary_balanced_accuracy == 1.0
    for scores in (result.miroir, result.textblob):
        assert sum(sum(row.values()) for row in scores.confusion.values()) == 11
        assert {truth: sum(row.values()) for truth, row in scores.confusion.items()} == {
            "negative": 5,
            "neutral": 1,
            "positive": 5,
        }
        assert scores.accuracy3 is not None and 0 <= scores.accuracy3 <= 1 and scores.per_s > 0
    assert result.tagged_share is None


@pytest.mark.parametrize(
    ("raw", "scale", "expected"),
    [
        ("4,0", 5, "positive"),
        ("1 étoile", 5, "negative"),
        ("3", 5, "neutral"),
        ("2,5", 5, "neutral"),
        ("3.5", 5, "neutral"),
        ("2.0", 5, "negative"),
        ("5.5", 5, None),
        ("0", 5, None),
        ("", 5, None),
        ("pas de note", 5, None),
        ("Avec une note de 8,0", 10, "neutral"),
        ("Avec une note de 10", 10, "positive"),
        ("9", 10, "positive"),
        ("6,0", 10, "negative"),
        ("7", 10, "neutral"),
        ("11", 10, None),
        ("True", 2, "positive"),
        ("false", 2, "negative"),
        ("1", 2, "positive"),
        ("0", 2, "negative"),
        ("Négatif", 2, "negative"),
        ("POSITIF", 2, "positive"),
        ("Neutre", 2, None),
        ("Positif", 3, "positive"),
        ("neutre", 3, "neutral"),
        ("NÉGATIF", 3, "negative"),
        ("Neutral", 3, "neutral"),
        ("1", 3, "neutral"),
        ("2", 3, "positive"),
        ("0", 3, "negative"),
        ("3", 3, None),
    ],
)
def test_ratings_read_into_classes(raw: str, scale: int, expected: str | None) -> None:
    assert rating_class(raw, scale) == expected


def test_a_10_scale_file_with_decimal_commas_and_words(tmp_path: Path) -> None:
    rows = [
        ("Chambre spacieuse, personnel adorable, petit déjeuner excellent.", "Avec une note de 9,0"),
        ("Tout était parfait, nous reviendrons avec plaisir.", "10"),
        ("Chambre sale et bruyante, accueil froid, très déçus.", "Avec une note de 2,0"),
        ("Bien situé mais chambre minuscule.", "7,5"),
        ("Lit inconfortable, salle de bain vétuste.", "6,0"),
        ("Bon séjour dans l'ensemble.", "8,0"),
    ]
    path = write_csv(tmp_path / "hotel.csv", ["avis", "score"], rows, delimiter="\t")
    result = evaluate_file(EvalSet(path, "avis", "score", 10, "fr", "hotel_stay"))
    truths = {truth: sum(row.values()) for truth, row in result.miroir.confusion.items()}
    assert truths == {"negative": 2, "neutral": 2, "positive": 2}
    assert result.miroir.binary_accuracy == 1.0  # the 1-6 and 9-10 rows: clear
    assert result.tagged_share is not None and 0 < result.tagged_share <= 1


def test_a_binary_file_has_no_3_class_figures_and_the_json_keys(tmp_path: Path) -> None:
    rows = [(text, "True" if int(rating[0]) >= 4 else "False") for _, text, rating in CLEAR if rating[0] != "3"]
    path = write_csv(tmp_path / "binary.csv", ["text", "label"], rows)
    out = tmp_path / "figures.json"
    code, output = run(str(path), "--text", "text", "--rating", "label", "--scale", "2", "--json", str(out))
    assert code == 0, output
    figures = json.loads(out.read_text())
    assert set(figures) == JSON_KEYS and set(figures["miroir"]) == set(figures["textblob"]) == SCORE_KEYS
    assert figures["rows"] == 10 and figures["tagged_share"] is None
    assert figures["miroir"]["accuracy3"] is None and figures["miroir"]["macro_f1"] is None
    assert figures["miroir"]["binary_balanced_accuracy"] == 1.0
    assert set(figures["miroir"]["confusion"]) == {"negative", "positive"}
    assert set(figures["miroir"]["confusion"]["negative"]) == set(CLASSES)
    assert "binary balanced accuracy" in output and "plain TextBlob" in output


def test_jsonl_with_dotted_paths_and_skipped_rows(tmp_path: Path) -> None:
    lines = [
        {"review": {"title": "Parfait", "body": "Repas délicieux et service impeccable."}, "stars": "4,0"},
        {"review": {"title": "Déçu", "body": ""}, "stars": 1},
        {"review": {"title": "", "body": ""}, "stars": 5},  # empty text
        {"review": {"title": "Correct", "body": "Rien à redire."}, "stars": "n/a"},  # unreadable rating
        {"review": {"body": "Serveur odieux, plats froids."}, "stars": 2},
    ]
    path = tmp_path / "reviews.jsonl"
    encoded = [json.dumps(line, ensure_ascii=False) for line in lines]
    path.write_text("\n".join([*encoded[:2], "", *encoded[2:]]) + "\n")  # a blank line: no row
    item = EvalSet(path, "review.title+review.body", "stars", 5, "fr", "restaurant_meal")
    rows, skipped, numbers = load_rows(item)
    assert [r.text for r in rows] == [
        "Parfait. Repas délicieux et service impeccable.",
        "Déçu",
        "Serveur odieux, plats froids.",
    ]
    assert [r.truth for r in rows] == ["positive", "negative", "negative"]
    assert (skipped, numbers) == (2, [4, 5])  # file lines (a blank line between the second and third)
    result = evaluate_file(item)
    assert (result.rows, result.skipped, result.skipped_rows) == (3, 2, [4, 5])
    code, output = run(str(path), "--text", "review.titel", "--rating", "stars", "--scale", "5")
    assert code == 1 and "'review.titel'" in output and "review.title" in output and "stars" in output


def test_an_unknown_column_is_an_error_naming_the_columns_present(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "clear.csv", ["titre", "avis", "note"], CLEAR, delimiter=";")
    with pytest.raises(EvalError, match=r"no column 'stars'; its columns: titre, avis, note"):
        evaluate_file(EvalSet(path, "titre+avis", "stars", 5))
    code, output = run(str(path), "--text", "title+avis", "--rating", "note", "--scale", "5")
    assert code == 1 and "'title'" in output and "titre, avis, note" in output


def test_limit_and_seed_draw_a_reproducible_sample(tmp_path: Path) -> None:
    rows = [(f"{text} ({i})", rating) for i in range(4) for _, text, rating in CLEAR]
    path = write_csv(tmp_path / "many.csv", ["text", "rating"], rows)

    def sample(seed: int) -> list[str]:
        return [r.text for r in load_rows(EvalSet(path, "text", "rating", 5, limit=10, seed=seed))[0]]

    assert len(sample(0)) == 10 and sample(0) == sample(0) != sample(1)
    assert sample(0) == sorted(sample(0), key=[text for text, _ in rows].index)  # in file order
    figures = []
    for attempt in range(2):
        out = tmp_path / f"run{attempt}.json"
        code, output = run(str(path), "--text", "text", "--rating", "rating", "--scale", "5", "--limit", "10",
                           "--seed", "3", "--json", str(out))  # fmt: skip
        assert code == 0, output
        figures.append(json.loads(out.read_text()))
    assert figures[0]["rows"] == 10 and figures[0]["miroir"]["confusion"] == figures[1]["miroir"]["confusion"]
    assert len(load_rows(EvalSet(path, "text", "rating", 5))[0]) == len(rows)  # every row by default


def test_a_journey_file_counts_the_rows_tagged_with_any_of_its_journeys(tmp_path: Path) -> None:
    rows = [("Plats délicieux et serveur adorable.", "5"), ("Nous avons passé un bon moment.", "4")]
    path = write_csv(tmp_path / "meals.csv", ["text", "rating"], rows)
    journey_file = Path(load_taxonomy().sources["restaurant_meal"])
    result = evaluate_file(EvalSet(path, "text", "rating", 5, "fr", str(journey_file)))
    assert result.tagged_share == 0.5
    with pytest.raises(EvalError, match=r"no journey 'restaurant'.*restaurant_meal"):
        evaluate_file(EvalSet(path, "text", "rating", 5, "fr", "restaurant"))


def test_the_command_says_what_a_file_needs_and_what_is_for_the_suite(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "clear.csv", ["text", "rating"], [(text, rating) for _, text, rating in CLEAR])
    code, output = run(str(path), "--text", "text")
    assert code == 1 and "--rating" in output and "--scale" in output
    code, output = run(str(path), "--text", "text", "--rating", "rating", "--scale", "4")
    assert code == 1 and "scale 4" in output
    code, output = run(str(path), "--text", "text", "--rating", "rating", "--scale", "5", "--readme")
    assert code == 1 and "suite" in output
    code, output = run("--text", "text", "--data", str(tmp_path))
    assert code == 1 and "need a FILE" in output


def test_the_suite_names_real_columns_shipped_journeys_and_known_scales() -> None:
    suite = load_suite(DEFAULT_DATA)
    journeys = load_taxonomy().journeys
    assert len(suite["sets"]) >= 20
    for item, domain in suite["sets"]:
        assert domain and item.scale in SCALES and item.language in ("fr", "en")
        assert item.journey is None or item.journey in journeys
        if "booking" in item.path.name:  # never Booking's titles (often its own score words)
            assert not {"titre", "Content"} & set(item.text.split("+"))
        if item.path.exists():
            with item.path.open(encoding="utf-8", newline="") as source:
                header = next(csv.reader(source))
            assert {*item.text.split("+"), item.rating} <= set(header), item.path.name
    check, sub_ratings = suite["per_step"]
    assert check.journey == "air_travel" and set(sub_ratings.values()) <= {s.id for s in journeys["air_travel"].steps}


def test_a_small_suite_prints_its_table_and_rewrites_the_readme_between_the_markers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    write_csv(data / "clear.csv", ["titre", "avis", "note"], CLEAR)
    airline = [
        ("Check-in was quick and the cabin crew were lovely.", "9", "5", "5"),
        ("Rude ground staff at check-in, the crew were kind though.", "4", "1", "4"),
        ("Lost my bag, nobody at the desk helped.", "1", "1", ""),
    ]
    write_csv(data / "air.csv", ["content", "rating", "ground_service", "cabin_staff_service"], airline)
    suite = {
        "sets": [
            {
                "file": "clear.csv",
                "domain": "self-made",
                "text": "titre+avis",
                "rating": "note",
                "scale": 5,
                "journey": "phone_shop",
            },  # no language: detected per row
            {"file": "absent.csv", "domain": "gone", "text": "t", "rating": "r", "scale": 5},
        ],
        "per_step": {
            "file": "air.csv",
            "text": "content",
            "rating": "rating",
            "scale": 10,
            "language": "en",
            "journey": "air_travel",
            "sub_ratings": {"ground_service": "ground_service", "cabin_staff_service": "cabin_staff_service"},
        },
    }
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite, allow_unicode=True))
    lines: list[str] = []
    result = run_suite(data, None, 0, lines.append, tmp_path / "suite.yaml")
    assert lines[0].startswith("clear.csv: 11 rows (0 skipped)") and lines[1] == "absent.csv: missing, left out"
    assert result.files[0][2] is not None and result.files[1][2] is None
    assert result.per_step is not None and result.per_step["ground_service"]["mentions"] >= 2
    assert set(result.mixed) == {"fr", "en"}
    markdown = suite_markdown(result)
    assert "| `clear.csv` (self-made) | 11 | 100.0% |" in markdown and "in-sample" in markdown
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n")
    with pytest.raises(EvalError, match="<!-- eval:begin -->"):
        readme_markers(readme)
    readme.write_text("# Title\n<!-- eval:begin -->\nold table\n<!-- eval:end -->\nafter\n")
    write_readme(markdown, readme)
    text = readme.read_text()
    assert "old table" not in text and text.startswith("# Title\n<!-- eval:begin -->\n")
    assert text.endswith("<!-- eval:end -->\nafter\n") and markdown in text


def test_per_step_and_mixed_checks_on_tiny_files(tmp_path: Path) -> None:
    air = write_csv(
        tmp_path / "air.csv",
        ["content", "rating", "ground_service"],
        [
            ("The check-in staff were rude and slow.", "2", "1"),
            ("Check-in was smooth and the ground staff helpful.", "9", "5"),
            ("Nothing to say about the flight.", "5", "3"),
        ],
    )
    steps = per_step(EvalSet(air, "content", "rating", 10, "en", "air_travel"), {"ground_service": "ground_service"})
    assert steps["ground_service"]["mentions"] == 2 and steps["ground_service"]["miroir_sign_agreement"] == 1.0
    mixed = ("fr-1", "fr", "restaurant_meal", "Cuisine excellente, mais service lent et serveur désagréable.")
    header = ["id", "language", "journey", "text", "expected"]
    fixture = write_csv(tmp_path / "mixed.csv", header, [(*mixed, "restaurant_food:+;restaurant_service:-")])
    tally = mixed_check(fixture)["fr"]
    assert tally["steps"] == 2 and tally["found"] == 2 and tally["miroir_right"] == 2
    assert tally["textblob_right"] == 1  # one sign for the whole text: one step of two at best
