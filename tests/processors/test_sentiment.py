"""Sentiment, per verbatim and per step, offline."""

import pytest

from processors.analysis import analyse
from processors.sentiment import features, model_for, polarity
from processors.taxonomy import load_taxonomy

HOME = load_taxonomy().journeys["home_delivery"]
SHOP = load_taxonomy().journeys["phone_shop"]


def test_models_ship_with_their_provenance_and_load_offline() -> None:
    for language in ("fr", "en"):
        model = model_for(language)
        assert model is not None, f"processors/models/sentiment-{language}.json.gz is missing"
        assert "held-out" in model.provenance and "trained" in model.provenance


def test_negation_scopes_are_marked() -> None:
    found = features("pas content du tout")
    assert "!content" in found and "pas !content" in found and "content" not in found
    assert "!good" in features("it wasn't good")
    assert "!aimable" in features("il n'est plus aimable")  # "ne ... plus": no longer
    assert "cher" in features("plus cher qu'ailleurs") and "!cher" not in features("plus cher qu'ailleurs")
    assert "!cher" in features("moins cher qu'ailleurs")  # "moins cher" reads as "pas cher"


def test_modifiers_weigh_only_through_the_word_they_modify() -> None:
    found = features("Le prix est un peu élevé, trop cher")
    assert not {"un", "peu", "un peu", "trop", "le", "est"} & set(found)
    assert {"peu eleve", "trop cher", "prix", "cher"} <= set(found)
    assert "~resili" in features("résiliation") and "~resili" in features("résilié")  # one judgement, two forms


@pytest.mark.parametrize(
    ("text", "language", "sign"),
    [
        ("Très satisfait, je recommande vivement", "fr", 1),
        ("Arnaque, je ne recommande pas du tout", "fr", -1),
        ("The crew were lovely and the food excellent", "en", 1),
        ("Rude staff and a filthy cabin, never again", "en", -1),
    ],
)
def test_polarity_sign_on_clear_verbatims(text: str, language: str, sign: int) -> None:
    assert polarity(text, language) * sign > 0.3


def test_polarity_is_bounded() -> None:
    for text in ("", "!!!", "super " * 500, "nul " * 500):
        assert -1.0 <= polarity(text, "fr") <= 1.0
    assert polarity("", "fr") == 0.0


@pytest.mark.parametrize(
    ("text", "positive", "negative"),
    [
        ("Livraison rapide mais SAV injoignable.", "delivery", "after_sales"),
        ("Le vendeur était super, par contre le montage a été une catastrophe.", "store_visit", "assembly"),
        (
            "Fast delivery and lovely drivers, but the customer service was useless.",
            "delivery",
            "after_sales",
        ),
    ],
)
def test_each_step_gets_its_own_polarity_in_a_mixed_verbatim(text: str, positive: str, negative: str) -> None:
    by_step = {s.step_id: s.polarity for s in analyse(text, HOME).steps}
    assert by_step[positive] > 0.2
    assert by_step[negative] < -0.2


def test_a_mixed_verbatim_of_the_shop() -> None:
    by_step = {
        s.step_id: s.polarity
        for s in analyse("Téléphone en parfait état, mais remboursement jamais reçu, honteux", SHOP).steps
    }
    assert by_step["product"] > 0.2 and by_step["returns"] < -0.2


def test_a_measurement_point_tags_a_silent_verbatim() -> None:
    analysis = analyse("Rien à dire, c'était très bien.", HOME, measurement_step="pickup")
    assert [(s.step_id, s.cued) for s in analysis.steps] == [("pickup", False)]
    assert analysis.steps[0].polarity == analysis.polarity
    assert not analyse("Rien à dire, c'était très bien.", HOME).tagged


def test_language_is_detected_when_absent_and_kept_when_given() -> None:
    assert analyse("The pickup was quick", HOME).language == "en"
    assert analyse("The pickup was quick", HOME, language="fr").language == "fr"


def test_no_nltk_corpus_is_needed() -> None:
    import nltk

    nltk.data.path[:] = ["/nonexistent"]
    assert analyse("Livraison rapide mais SAV injoignable.", HOME).tagged
