import pytest

from processors.analysis import StepPolarity
from processors.states import (
    customer_mention_polarity,
    customer_state,
    score_polarity,
    score_state,
    staff_mention_polarity,
    staff_state,
)
from processors.taxonomy import load_taxonomy

POLICY = load_taxonomy().states


@pytest.mark.parametrize(
    ("score", "scale", "state"),
    [
        (10, "NPS", "enchanted"),
        (9, "NPS", "enchanted"),
        (8, "NPS", "neutral"),
        (7, "NPS", "neutral"),
        (6, "NPS", "dissatisfied"),
        (0, "NPS", "dissatisfied"),
        (5, "CSAT", "enchanted"),
        (4, "CSAT", "enchanted"),
        (3, "CSAT", "neutral"),
        (2, "CSAT", "dissatisfied"),
    ],
)
def test_score_state_follows_nps_and_csat_bands(score: int, scale: str, state: str) -> None:
    assert score_state(score, scale) == state


def test_score_polarity_spans_minus_one_to_one() -> None:
    assert score_polarity(10, "NPS") == 1.0 and score_polarity(0, "NPS") == -1.0
    assert score_polarity(5, "CSAT") == 1.0 and score_polarity(1, "CSAT") == -1.0
    assert score_polarity(3, "CSAT") == 0.0


def test_strong_text_moves_the_customer_state_one_notch() -> None:
    assert customer_state(10, "NPS", 0.1, POLICY) == "enchanted"
    assert customer_state(10, "NPS", -0.8, POLICY) == "neutral"  # promoter who writes a complaint
    assert customer_state(7, "NPS", 0.9, POLICY) == "enchanted"
    assert customer_state(3, "NPS", 0.9, POLICY) == "neutral"
    assert customer_state(3, "NPS", -0.9, POLICY) == "dissatisfied"


def test_staff_state_leans_on_the_prompt() -> None:
    assert staff_state("most_positive", 0.5, POLICY) == "engaged"
    assert staff_state("most_frustrating", -0.4, POLICY) == "frustrated"
    assert staff_state("most_frustrating", 0.3, POLICY) == "indifferent"
    assert (
        staff_mention_polarity(0.0, "most_positive", POLICY)
        > 0
        > staff_mention_polarity(0.0, "most_frustrating", POLICY)
    )


def test_a_cued_step_follows_its_clause_more_than_the_score() -> None:
    praised = StepPolarity("delivery", 0.8, cued=True)
    assert customer_mention_polarity(praised, 2, "NPS", POLICY) > 0  # detractor, but this step was praised
    silent = StepPolarity("pickup", 0.0, cued=False)
    assert customer_mention_polarity(silent, 0, "NPS", POLICY) == -0.5


def test_the_weights_and_cut_offs_are_the_taxonomy_s() -> None:
    """The numbers of thresholds.yaml's `states:`, exactly as they were in the code."""
    assert staff_mention_polarity(0.5, "most_positive", POLICY) == 0.6 * 0.5 + 0.4 * 0.5
    assert staff_mention_polarity(0.5, "most_frustrating", POLICY) == 0.6 * 0.5 - 0.4 * 0.5
    assert staff_mention_polarity(0.5, "some_new_prompt", POLICY) == 0.6 * 0.5  # no prior: no lean
    cued, uncued = StepPolarity("delivery", 0.4, cued=True), StepPolarity("delivery", 0.4, cued=False)
    assert customer_mention_polarity(cued, 10, "NPS", POLICY) == 0.75 * 0.4 + 0.25 * 1.0
    assert customer_mention_polarity(uncued, 10, "NPS", POLICY) == 0.5 * 0.4 + 0.5 * 1.0
    assert (
        customer_state(10, "NPS", -0.5, POLICY) == "neutral" and customer_state(10, "NPS", -0.49, POLICY) == "enchanted"
    )
    assert staff_state("most_positive", 0.0, POLICY) == "engaged"  # 0.4 * 0.5 = 0.2: at the cut
    assert staff_state("most_positive", -0.01, POLICY) == "indifferent"
