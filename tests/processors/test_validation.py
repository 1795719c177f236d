from datetime import UTC, datetime

import pytest

from processors.taxonomy import load_taxonomy
from processors.validation import check_staff_feedback, check_survey_response
from tests.examples import EXAMPLES

TAXONOMY = load_taxonomy()
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC).timestamp()
SURVEY = EXAMPLES["SurveyResponse"]


def test_a_good_response_passes() -> None:
    assert check_survey_response(SURVEY, TAXONOMY, NOW) is None
    assert check_staff_feedback(EXAMPLES["StaffFeedback"], TAXONOMY, NOW) is None


@pytest.mark.parametrize(
    ("change", "reason", "detail"),
    [
        ({"score": 11}, "score_out_of_range", "score 11 not in 0..10"),
        ({"score": 0, "score_scale": "CSAT"}, "score_out_of_range", "not in 1..5"),
        ({"journey_id": "moon_trip"}, "unknown_journey", "'moon_trip'"),
        ({"step_id": "teleport"}, "unknown_step", "'teleport' is not a step of home_delivery"),
        ({"verbatim": "   "}, "empty_verbatim", "verbatim is empty"),
        ({"verbatim": "x" * 5001}, "verbatim_too_long", "5001 characters"),
        (
            {"event_time": datetime(2030, 1, 1, tzinfo=UTC)},
            "event_time_out_of_range",
            "more than a day ahead",
        ),
        ({"event_time": datetime(1999, 1, 1, tzinfo=UTC)}, "event_time_out_of_range", "before 2000"),
        # Far out: the ends of a datetime, and epoch milliseconds no float holds (OverflowError).
        ({"event_time": datetime.max.replace(tzinfo=UTC)}, "event_time_out_of_range", "more than a day ahead"),
        ({"event_time": datetime.min.replace(tzinfo=UTC)}, "event_time_out_of_range", "before 2000"),
        ({"event_time": 10**400}, "event_time_out_of_range", "event_time 1000"),
        ({"event_time": -(10**400)}, "event_time_out_of_range", "event_time -1000"),
        ({"event_time": 2**62}, "event_time_out_of_range", "more than a day ahead"),
        ({"score": 2**40}, "score_out_of_range", f"score {2**40} not in 0..10"),
        ({"score": -(2**63)}, "score_out_of_range", "not in 0..10"),
        ({"score": 10**400, "score_scale": "CSAT"}, "score_out_of_range", "not in 1..5"),
    ],
)
def test_bad_responses_get_a_reason(change: dict, reason: str, detail: str) -> None:
    rejection = check_survey_response({**SURVEY, **change}, TAXONOMY, NOW)
    assert rejection is not None
    assert rejection.reason == reason
    assert detail in rejection.detail


def test_a_staff_story_without_journey_is_fine_but_not_an_unknown_one() -> None:
    story = EXAMPLES["StaffFeedback"]
    assert check_staff_feedback({**story, "journey_id": None}, TAXONOMY, NOW) is None
    rejection = check_staff_feedback({**story, "journey_id": "nope"}, TAXONOMY, NOW)
    assert rejection is not None and rejection.reason == "unknown_journey"


@pytest.mark.parametrize(
    ("change", "reason", "detail"),
    [
        ({"step_id": "online_order"}, "unknown_step", "'online_order' is not a step of home_delivery"),
        ({"step_id": "teleport"}, "unknown_step", "StaffFeedback.step_id 'teleport' is not a step"),
        ({"journey_id": None}, "unknown_step", "StaffFeedback.step_id 'delivery' needs a journey_id"),
        ({"journey_id": "moon_trip"}, "unknown_journey", "'moon_trip'"),
    ],
)
def test_a_staff_story_s_step_must_be_of_its_journey(change: dict, reason: str, detail: str) -> None:
    story = {**EXAMPLES["StaffFeedback"], "journey_id": "home_delivery", "step_id": "delivery"}
    assert check_staff_feedback(story, TAXONOMY, NOW) is None
    rejection = check_staff_feedback({**story, **change}, TAXONOMY, NOW)
    assert rejection is not None
    assert rejection.reason == reason
    assert detail in rejection.detail
