"""Hostile input: whatever arrives ends as a processed record or a rejection with a reason; nothing raises.

About 2,200 generated inputs per run (400 random byte strings, 600 hostile survey responses,
3 x 300 truncated or padded records, 300 hostile staff stories)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processors.pipeline import (
    Observation,
    PipelineConfig,
    observe_staff_feedback,
    observe_survey_response,
    take_input,
)
from processors.taxonomy import load_taxonomy
from processors.validation import Rejection, check_staff_feedback, check_survey_response
from processors.windows import WindowSpec
from schemas import codec_for
from tests.examples import EXAMPLES

CONFIG = PipelineConfig(load_taxonomy(), (WindowSpec("live", 3600, 300), WindowSpec("long", 30 * 86400, 86400)))
NOW = datetime(2026, 11, 23, tzinfo=UTC).timestamp()
ORIGIN = ("fuzz:0", 0)
REASONS = set(codec_for("DeadLetter").schema["fields"][4]["type"]["symbols"])
SURVEY = codec_for("SurveyResponse")

nasty_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "So"]), max_size=50),
    st.just(""),
    st.just(" \t\n"),
    st.just("é" * 6000),
    st.just("\x00" * 10),
    st.just("Livraison rapide mais SAV injoignable, appelez le 06 12 34 56 78"),
)
hostile_survey = st.fixed_dictionaries(
    {
        "response_id": st.text(max_size=20),
        "customer_ref": st.text(max_size=20),
        "journey_id": st.sampled_from(["home_delivery", "click_collect", "phone_shop", "moon_trip", ""]),
        "step_id": st.one_of(st.none(), st.sampled_from(["delivery", "pickup", "teleport"])),
        "score": st.integers(-(2**31), 2**31 - 1),
        "score_scale": st.sampled_from(["NPS", "CSAT"]),
        "verbatim": nasty_text,
        "site": st.text(max_size=20),
        "callback_consent": st.booleans(),
        "language": st.one_of(st.none(), st.sampled_from(["fr", "en", "de", ""])),
        "event_time": st.integers(-(10**12), 10**14).map(
            lambda ms: datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
        ),
    }
)


def assert_handled(outcome: Rejection | Observation) -> None:
    if isinstance(outcome, Rejection):
        assert outcome.reason in REASONS and outcome.reason != "other", outcome
        assert outcome.detail
    else:
        assert isinstance(outcome, Observation) and -1.0 <= outcome.polarity <= 1.0


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.one_of(st.binary(max_size=200), st.binary(max_size=40).map(lambda b: b"\xc3\x01" + b)))
def test_random_bytes_are_rejected_as_undecodable(raw: bytes) -> None:
    _, outcome = take_input(raw, SURVEY, check_survey_response, observe_survey_response, CONFIG, {}, NOW, ORIGIN)
    assert_handled(outcome)
    assert isinstance(outcome, Rejection) and outcome.reason == "undecodable"


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=hostile_survey)
def test_hostile_survey_responses_are_processed_or_rejected_with_a_reason(record: dict[str, Any]) -> None:
    _, outcome = take_input(
        SURVEY.encode(record), SURVEY, check_survey_response, observe_survey_response, CONFIG, {}, NOW, ORIGIN
    )
    assert_handled(outcome)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(min_size=1, max_size=30), cut=st.integers(0, 60))
def test_truncated_and_corrupted_avro_is_rejected(raw: bytes, cut: int) -> None:
    good = SURVEY.encode(EXAMPLES["SurveyResponse"])
    for value in (good[:cut], good[:cut] + raw, good + raw):
        _, outcome = take_input(value, SURVEY, check_survey_response, observe_survey_response, CONFIG, {}, NOW, ORIGIN)
        assert_handled(outcome)


@settings(max_examples=300, deadline=None)
@given(verbatim=nasty_text, journey=st.sampled_from([None, "home_delivery", "nowhere"]))
def test_hostile_staff_stories_are_processed_or_rejected(verbatim: str, journey: str | None) -> None:
    codec = codec_for("StaffFeedback")
    record = {**EXAMPLES["StaffFeedback"], "verbatim": verbatim, "journey_id": journey}
    _, outcome = take_input(
        codec.encode(record), codec, check_staff_feedback, observe_staff_feedback, CONFIG, {}, NOW, ORIGIN
    )
    assert_handled(outcome)
