from pathlib import Path

import pytest

from processors.taxonomy import TaxonomyError, cue_pattern, load_taxonomy
from processors.text import fold

TAXONOMY = load_taxonomy()


def steps_in(journey: str, text: str) -> list[str]:
    found = [m.step_id for m in TAXONOMY.journeys[journey].all_mentions(fold(text))]
    return list(dict.fromkeys(found))  # each step once, in order of first mention


def test_the_shipped_journeys() -> None:
    assert set(TAXONOMY.journeys) == {"home_delivery", "click_collect", "phone_shop", "air_travel"}
    home, collect = TAXONOMY.journeys["home_delivery"], TAXONOMY.journeys["click_collect"]
    assert home.step("pickup") is collect.step("pickup")  # "Retrait" is one step shared by both
    assert [s.id for s in TAXONOMY.journeys["phone_shop"].steps] == [
        "shop_order",
        "shop_delivery",
        "product",
        "shop_after_sales",
        "returns",
    ]


def test_cues_ignore_accents_and_case_and_cover_inflections() -> None:
    assert steps_in("home_delivery", "LIVRÉ en retard") == ["delivery"]
    assert steps_in("home_delivery", "les livreurs étaient polis") == ["delivery"]
    assert steps_in("home_delivery", "Le Service Après-Vente ne répond pas") == ["after_sales"]
    assert steps_in("home_delivery", "the drivers were late") == ["delivery"]
    assert steps_in("click_collect", "Retrait au comptoir rapide") == ["pickup"]


def test_several_steps_in_order_and_none_when_silent() -> None:
    assert steps_in("home_delivery", "Montage raté mais livraison rapide") == ["assembly", "delivery"]
    assert steps_in("home_delivery", "Rien à signaler") == []


def test_a_cue_matches_whole_words_only() -> None:
    assert steps_in("home_delivery", "ma montre et mon montant") == []  # cue 'monte', not 'mont*'
    assert steps_in("home_delivery", "pickupTruck") == []


def test_each_measurement_point_has_its_own_threshold() -> None:
    home = TAXONOMY.journeys["home_delivery"]
    delivery, after_sales = home.step("delivery"), home.step("after_sales")
    assert delivery and delivery.measurement_point and after_sales and after_sales.measurement_point
    assert delivery.measurement_point.is_below(6, "NPS") and not delivery.measurement_point.is_below(7, "NPS")
    assert not after_sales.measurement_point.is_below(6, "NPS")  # after-sales objective is lower
    assert after_sales.measurement_point.is_below(2, "CSAT")


def test_cue_pattern() -> None:
    assert cue_pattern("Service client*") == r"\bservice[\s'-]+client\w*(?!\w)"


def test_a_wrong_taxonomy_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("journeys:\n  j:\n    steps: [ghost]\n")
    with pytest.raises(TaxonomyError, match="unknown step 'ghost'"):
        load_taxonomy(bad)
    bad.write_text("thresholds:\n  min_custmer_n: 3\n")
    with pytest.raises(TaxonomyError, match="unknown threshold 'min_custmer_n'"):
        load_taxonomy(bad)
    bad.write_text("steps:\n  s:\n    cues: {fr: [a]}\n")
    with pytest.raises(TaxonomyError, match="needs both fr and en cues"):
        load_taxonomy(bad)
