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
    assert customer_state(10, "NPS", 0.1) == "enchanted"
    assert customer_state(10, "NPS", -0.8) == "neutral"  # promoter who writes a complaint
    assert customer_state(7, "NPS", 0.9) == "enchanted"
    assert customer_state(3, "NPS", 0.9) == "neutral"
    assert customer_state(3, "NPS", -0.9) == "dissatisfied"


def test_staff_state_leans_on_the_prompt() -> None:
    assert staff_state("most_positive", 0.5) == "engaged"
    assert staff_state("most_frustrating", -0.4) == "frustrated"
    assert staff_state("most_frustrating", 0.3) == "indifferent"
    assert staff_mention_polarity(0.0, "most_positive") > 0 > staff_mention_polarity(0.0, "most_frustrating")


def test_a_cued_step_follows_its_clause_more_than_the_score() -> None:
    praised = StepPolarity("delivery", 0.8, cued=True)
    assert customer_mention_polarity(praised, 2, "NPS") > 0  # detractor, but this step was praised
    silent = StepPolarity("pickup", 0.0, cued=False)
    assert customer_mention_polarity(silent, 0, "NPS") == -0.5
