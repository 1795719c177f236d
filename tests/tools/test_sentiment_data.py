"""scripts/sentiment_data.py on the real files of ../shared/data (skipped where that folder is missing):
every file has a loader, every domain has rows, labels and entities are sound, Booking's score words
never reach a text. The rule tests use made-up cells only: no review text lives in this repository."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from scripts.sentiment_data import (
    DEFAULT_DATA,
    DOMAINS,
    NEG,
    NEU,
    POS,
    SPECS,
    Review,
    airline10,
    booking10,
    denies,
    half_stars,
    is_placeholder,
    join_parts,
    load_all,
    loaders,
    stars5,
)

DATA = DEFAULT_DATA
BOOKING = {  # file stem: (title column, pros column, cons column)
    "booking_fr_paris_hotels_nohossat": ("titre", "bons_points", "mauvais_points"),
    "booking_fr_trianon_hotel": ("Content", "Positive", "Negative"),
}


@pytest.fixture(scope="module")
def loaded() -> tuple[list[Review], dict[str, Counter[str]]]:
    if not (DATA / "fr").is_dir():
        pytest.skip(f"no shared data at {DATA}")
    skipped: dict[str, Counter[str]] = {}
    return load_all(DATA, skipped), skipped


@pytest.fixture(scope="module")
def reviews(loaded: tuple[list[Review], dict[str, Counter[str]]]) -> list[Review]:
    return loaded[0]


def test_every_file_has_a_loader(reviews: list[Review]) -> None:
    files = {p.stem for p in (DATA / "fr").glob("*.csv")} | {p.stem for p in DATA.glob("*.csv")}
    assert len(files) == 23
    assert set(loaders()) == files
    assert {r.source for r in reviews} == files


def test_every_domain_has_rows_and_nothing_else(reviews: list[Review]) -> None:
    count = Counter(r.domain for r in reviews if r.part == "review")
    assert set(count) == set(DOMAINS)
    assert min(count.values()) >= 150


def test_labels_parts_and_languages(reviews: list[Review]) -> None:
    assert {r.label for r in reviews} == {NEG, NEU, POS}
    assert {(r.label, r.binary_only) for r in reviews if r.part == "pros"} == {(POS, True)}
    assert {(r.label, r.binary_only) for r in reviews if r.part == "cons"} == {(NEG, True)}
    assert {r.part for r in reviews} == {"review", "pros", "cons"}
    english = {r.source for r in reviews if r.language == "en"}
    assert english == {"en_airline_reviews_ba", "en_employee_reviews_glassdoor"}
    assert {r.language for r in reviews} == {"fr", "en"}


def test_binary_sources_have_no_neutral(reviews: list[Review]) -> None:
    binary = {r.source for r in reviews if r.binary_only and r.part == "review"}
    assert binary == {
        "allocine_fr_movies_blard_sample",
        "allocine_fr_tvseries_dongdemelo",
        "amazon_fr_books_cls10_test",
    }
    assert sum(r.label == NEU for r in reviews if r.binary_only or r.source in binary) == 0


def test_texts_are_clean_and_unique_per_file(reviews: list[Review]) -> None:
    # counts, not rows, in the assertions: a failure must not print review text
    short = sum(len(r.text) < 3 for r in reviews)
    unclean = sum(r.text != r.text.strip() or "  " in r.text or "\n" in r.text for r in reviews)
    undecoded = sum("&amp;" in r.text or "&nbsp;" in r.text or "\x92" in r.text for r in reviews)
    assert (short, unclean, undecoded) == (0, 0, 0)
    repeats = Counter((r.source, r.text, r.label) for r in reviews)
    assert max(repeats.values()) == 1


def test_booking_score_words_never_reach_a_text(reviews: list[Review]) -> None:
    checked = used = leaked = 0
    for stem, (title, pros, cons) in BOOKING.items():
        texts = {r.text for r in reviews if r.source == stem}
        with (DATA / "fr" / f"{stem}.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                with_title = join_parts([row[title], row[pros], row[cons]])
                if with_title == join_parts(["", row[pros], row[cons]]):
                    continue  # the title adds nothing here: nothing to tell apart
                if row["title_is_booking_score_label"] == "1":
                    checked += 1
                    leaked += with_title in texts
                else:
                    used += with_title in texts
    assert leaked == 0
    assert checked > 3000  # the flagged rows were really looked at...
    assert used > 2000  # ...and the guests' own titles are kept, so the check can see a title


def test_entities(reviews: list[Review]) -> None:
    entities: dict[str, set[str]] = {}
    for r in reviews:
        entities.setdefault(r.domain, set()).add(r.entity)
    assert len(entities["restaurants"]) > 40
    assert len(entities["employees"]) > 50
    assert len(entities["en_employees"]) == 92
    assert sum(not e.partition(":")[2] for es in entities.values() for e in es) == 0
    # a restaurant reviewed in two files is one entity, the Trianon hotel one entity for its two files
    adjaro = {r.entity for r in reviews if r.source == "tripadvisor_fr_lyon_restaurants_adjaro"}
    hugo = {r.entity for r in reviews if r.source == "tripadvisor_fr_lyon_restaurants_hugocollin"}
    assert len(adjaro & hugo) >= 10
    trianon = {r.entity for r in reviews if "trianon" in r.source}
    assert len(trianon) == 1
    # pros/cons rows belong to the entity of their review
    review_entities = {(r.source, r.entity) for r in reviews if r.part == "review"}
    assert sum((r.source, r.entity) not in review_entities for r in reviews if r.part != "review") == 0


def test_files_without_an_entity_column_get_stable_buckets(reviews: list[Review]) -> None:
    for spec in SPECS:
        if spec.entity or spec.const:
            continue
        found = {r.entity for r in reviews if r.source == spec.stem}
        assert len(found) == 20 and all(e.startswith(f"{spec.stem}:bucket") for e in found)
        assert "pseudo-entities" in (loaders()[spec.stem].__doc__ or "")


def test_skips_are_counted(loaded: tuple[list[Review], dict[str, Counter[str]]]) -> None:
    skipped = loaded[1]
    assert skipped["google_maps_fr_pole_emploi_idf"]["empty rating"] == 26
    assert skipped["books_fr_babelio_critiqueslibres"]["invalid rating"] == 3  # the 5.5 ratings
    assert skipped["booking_fr_paris_hotels_nohossat"]["cons row: placeholder"] > 1000


# ---------------------------------------------------------------- the rules, on made-up cells


def test_scales() -> None:
    assert [stars5(s) for s in ("1", "2.0", "3", "4 étoiles", "5\xa0étoiles", "1\xa0étoile")] == [
        NEG,
        NEG,
        NEU,
        POS,
        POS,
        NEG,
    ]
    assert stars5("") is None and stars5("6") is None and stars5("3.5") is None
    assert [half_stars(s) for s in ("0.5", "2.0", "2.5", "3.5", "4.0", "5.0")] == [NEG, NEG, NEU, NEU, POS, POS]
    assert half_stars("5.5") is None
    assert [booking10(s) for s in ("5,0", "5,4", "7,9", "8,0", "10", "Avec une note de 4,6")] == [
        NEG,
        NEU,
        NEU,
        POS,
        POS,
        NEG,
    ]
    assert [airline10(s) for s in ("4", "5", "7", "8")] == [NEG, NEU, NEU, POS] and airline10("11") is None


def test_placeholders_and_denials() -> None:
    assert all(is_placeholder(c) for c in ("RAS", "rien.", "Néant", "N/A", "-", ".", "None", "#NAME?", "none none"))
    assert not any(is_placeholder(c) for c in ("Rien à redire, super", "Bien", "Tout"))
    assert denies("Aucun inconvénient pour moi", "cons") and denies("none that come to mind", "cons")
    assert denies("Tout était parfait", "cons") and not denies("Tout était parfait", "pros")
    assert not denies("No room to grow", "cons") and not denies("Aucune écoute du management", "cons")


def test_joins() -> None:
    assert join_parts(["Super séjour", "Le calme", "RAS"]) == "Super séjour. Le calme"
    assert join_parts(["Très bien !", " la  vue ", "None"]) == "Très bien ! la vue"
    assert join_parts(["Un envoi rapide et…", "Un envoi rapide et soigné."]) == "Un envoi rapide et soigné."
    assert join_parts(["Top", "top"]) == "Top"
    assert join_parts(["&quot;Salut&quot;", "Verified Review |  ok"]) == "Salut. ok"
