import re
from dataclasses import MISSING, fields
from pathlib import Path

import pytest

from processors.callbacks import priority, wants_callback
from processors.cues import CueError, CueMatcher
from processors.journey_check import check_taxonomy, loaded_from
from processors.states import customer_state, staff_mention_polarity, staff_state
from processors.taxonomy import (
    DEFAULT_DIR,
    DEFAULTS,
    CallbackPolicy,
    MeasurementPoint,
    PerScale,
    StatePolicy,
    TaxonomyError,
    Thresholds,
    load_taxonomy,
)
from processors.text import fold, read_words
from tests.examples import EXAMPLES

TAXONOMY = load_taxonomy()


def steps_in(journey: str, text: str) -> list[str]:
    found = [m.step_id for m in TAXONOMY.journeys[journey].all_mentions(fold(text))]
    return list(dict.fromkeys(found))  # each step once, in order of first mention


def test_the_shipped_journeys() -> None:
    assert set(TAXONOMY.journeys) == {
        *("home_delivery", "click_collect", "phone_shop", "air_travel", "hotel_stay", "restaurant_meal"),
        *("public_service", "pharmacy", "food_delivery", "insurance"),
    }
    assert check_taxonomy(TAXONOMY) == []  # what ships passes its own check
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


def test_cue_forms_whole_word_start_part_and_words_in_a_row() -> None:
    matcher = CueMatcher.of([["conseil"], ["conseill*"], ["*conseill*"], ["service client*"], ["rembours*ment"]])
    words = read_words("les teleconseillers, le service-clients, un remboursement, un conseil").words
    assert sorted({step for step, _, _ in matcher.matches(words)}) == [0, 2, 3, 4]
    assert matcher.matches(read_words("conseillere").words) == [(1, 0, 1), (2, 0, 1)]
    with pytest.raises(CueError, match="empty cue"):
        CueMatcher.of([["*"]])


JOURNEY = """
steps:
  {step}:
    label: {{fr: Accueil, en: Welcome}}
    cues: {{fr: [accueil*, "*conseill*"], en: [welcome*]}}
  wait:
    label: {{fr: Attente, en: Waiting}}
    cues: {{fr: [attente, accueil], en: [wait*]}}
journeys:
  {journey}:
    label: {{fr: Agence, en: Branch}}
    steps: [{step}, wait]
"""


def test_a_users_file_adds_to_the_shipped_journeys_unless_told_to_replace_them(tmp_path: Path) -> None:
    mine = tmp_path / "agency.yaml"
    mine.write_text(JOURNEY.format(step="welcome", journey="agency"))
    added = load_taxonomy(mine, with_shipped=True)
    assert {"agency", "phone_shop", "home_delivery"} <= set(added.journeys)
    assert added.sources["agency"] == str(mine) and added.sources["phone_shop"].endswith("ecommerce.yaml")
    assert f"agency from {mine}" in loaded_from(added)
    assert set(load_taxonomy(mine).journeys) == {"agency"}  # alone: only the file's


def test_an_id_declared_in_two_files_is_an_error_naming_both(tmp_path: Path) -> None:
    mine = tmp_path / "agency.yaml"
    mine.write_text(JOURNEY.format(step="pickup", journey="agency"))  # 'pickup' ships with the furniture store
    with pytest.raises(TaxonomyError, match=r"step 'pickup' is already declared in .*furniture_store.yaml"):
        load_taxonomy(mine, with_shipped=True)
    mine.write_text(JOURNEY.format(step="welcome", journey="phone_shop"))
    with pytest.raises(TaxonomyError, match=r"journey 'phone_shop' is already declared in .*ecommerce.yaml"):
        load_taxonomy(mine, with_shipped=True)


def test_an_unquoted_inside_word_cue_says_to_quote_it(tmp_path: Path) -> None:
    mine = tmp_path / "agency.yaml"
    mine.write_text(JOURNEY.format(step="welcome", journey="agency").replace('"*conseill*"', "*conseill*"))
    with pytest.raises(TaxonomyError, match=r"must be quoted"):
        load_taxonomy(mine)


def test_the_check_names_shared_cues_missing_labels_and_unused_steps(tmp_path: Path) -> None:
    mine = tmp_path / "agency.yaml"
    text = JOURNEY.format(step="welcome", journey="agency").replace("{fr: Attente, en: Waiting}", "{fr: Attente}")
    lonely = "  lonely:\n    label: {fr: Seul, en: Alone}\n    cues: {fr: [seul], en: [alone]}\n"
    mine.write_text(text.replace("journeys:", lonely + "journeys:"))
    problems = sorted(p.what for p in check_taxonomy(load_taxonomy(mine)))
    assert problems == [
        "journey 'agency': cue 'accueil*' of step 'welcome' also matches step 'wait': a text naming it counts for both",
        "step 'lonely' is declared but no journey lists it",
        "step 'wait' has no label in en",
    ]


def test_an_unknown_section_is_an_error(tmp_path: Path) -> None:
    mine = tmp_path / "agency.yaml"
    mine.write_text(JOURNEY.format(step="welcome", journey="agency").replace("journeys:", "journey:"))
    with pytest.raises(TaxonomyError, match=r"unknown section 'journey'; known: callbacks, journeys, states, steps"):
        load_taxonomy(mine)


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


# ---------------------------------------------------------------- the numbers: thresholds.yaml only


def test_the_dataclasses_have_no_defaults_of_their_own() -> None:
    for cls in (Thresholds, CallbackPolicy, StatePolicy, MeasurementPoint, PerScale):
        defaulted = [f.name for f in fields(cls) if f.default is not MISSING or f.default_factory is not MISSING]
        assert defaulted == [], f"{cls.__name__} defaults {defaulted}: they belong in thresholds.yaml"


def test_the_shipped_numbers() -> None:
    states, callbacks = TAXONOMY.states, TAXONOMY.callbacks
    assert (states.text_override_at, states.staff_state_at) == (0.5, 0.2)
    assert (states.cued_clause_weight, states.uncued_clause_weight, states.staff_clause_weight) == (0.75, 0.5, 0.6)
    assert dict(states.prompt_priors) == {"most_positive": 0.5, "most_frustrating": -0.5}
    assert callbacks.high_priority_text_at == -0.7
    assert callbacks.high_priority_score_at == PerScale(nps=3, csat=1)
    assert callbacks.default_threshold == PerScale(nps=7, csat=3)
    assert TAXONOMY.thresholds.min_customer_n == 5 and callbacks.sla_hours == 48


def test_a_taxonomy_file_overrides_the_defaults_and_the_behaviour_follows(tmp_path: Path) -> None:
    custom = tmp_path / "custom.yaml"
    custom.write_text(
        (DEFAULT_DIR / "furniture_store.yaml").read_text()
        + "states:\n  text_override_at: 0.95\n  prompt_priors: {most_positive: 0.9}\n"
        + "callbacks:\n  default_threshold: {nps: 9, csat: 4}\n  high_priority_text_at: -0.95\n"
    )
    taxonomy = load_taxonomy(custom)
    assert customer_state(10, "NPS", -0.8, TAXONOMY.states) == "neutral"
    assert customer_state(10, "NPS", -0.8, taxonomy.states) == "enchanted"  # 0.8 no longer overrides
    assert staff_mention_polarity(0.0, "most_frustrating", taxonomy.states) == 0.0  # its prior replaced
    response = {**EXAMPLES["SurveyResponse"], "step_id": None, "score": 8}
    assert wants_callback(response, 0.0, TAXONOMY, TAXONOMY.callbacks) is None
    assert wants_callback(response, 0.0, taxonomy, taxonomy.callbacks) == "score"
    assert priority(response, -0.8, TAXONOMY.callbacks) == "high"
    assert priority(response, -0.8, taxonomy.callbacks) == "normal"
    assert taxonomy.thresholds == TAXONOMY.thresholds  # the rest still the defaults'


def test_the_defaults_file_is_where_the_numbers_come_from(tmp_path: Path) -> None:
    defaults = tmp_path / "thresholds.yaml"
    defaults.write_text(DEFAULTS.read_text().replace("staff_state_at: 0.2 ", "staff_state_at: 0.5 "))
    taxonomy = load_taxonomy(DEFAULT_DIR / "furniture_store.yaml", defaults=defaults)
    assert taxonomy.states.staff_state_at == 0.5
    assert staff_state("most_positive", 0.3, TAXONOMY.states) == "engaged"
    assert staff_state("most_positive", 0.3, taxonomy.states) == "indifferent"


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("  min_staff_n: 2 ", "thresholds.min_staff_n"),
        ("  uncued_clause_weight: 0.5 ", "states.uncued_clause_weight"),
        ("  high_priority_text_at: -0.7 ", "callbacks.high_priority_text_at"),
        ("  default_threshold: {nps: 7, csat: 3}", "callbacks.default_threshold"),
    ],
)
def test_a_field_missing_from_the_defaults_is_an_error_naming_it(tmp_path: Path, line: str, named: str) -> None:
    defaults = tmp_path / "thresholds.yaml"
    kept = [x for x in DEFAULTS.read_text().splitlines() if not x.startswith(line)]
    assert len(kept) == len(DEFAULTS.read_text().splitlines()) - 1
    defaults.write_text("\n".join(kept))
    with pytest.raises(TaxonomyError, match=f"missing {re.escape(named)}"):
        load_taxonomy(DEFAULT_DIR / "furniture_store.yaml", defaults=defaults)


def test_wrong_numbers_are_errors_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    for text, message in [
        ("callbacks:\n  quiet_dayz: 3\n", "unknown callbacks setting 'quiet_dayz'"),
        ("states:\n  staff_state_at: high\n", r"states.staff_state_at: 'high' is not a number"),
        ("thresholds:\n  min_staff_n: 2.5\n", "thresholds.min_staff_n: 2.5 is not an integer"),
        ("callbacks:\n  default_threshold: {nps: 7}\n", "callbacks.default_threshold.csat: missing"),
        ("callbacks:\n  high_priority_score_at: {nps: 3, csat: 1, ces: 2}\n", "high_priority_score_at.ces: unknown"),
    ]:
        bad.write_text(text)
        with pytest.raises(TaxonomyError, match=message):
            load_taxonomy(bad)


def test_a_measurement_point_takes_the_default_threshold_for_a_scale_it_leaves_out(tmp_path: Path) -> None:
    custom = tmp_path / "custom.yaml"
    custom.write_text(
        "steps:\n  s:\n    cues: {fr: [a], en: [a]}\n    measurement_point: {threshold: {nps: 5}}\n"
        "journeys:\n  j:\n    steps: [s]\n"
    )
    step = load_taxonomy(custom).journeys["j"].step("s")
    assert step and step.measurement_point
    assert step.measurement_point.threshold == PerScale(nps=5, csat=3)
    assert step.measurement_point.sla_hours is None
