"""Hostile input: whatever arrives ends as a processed record or a rejection with a named reason; nothing
raises, and nothing falls to "other".

Each input goes the way the analysis agents take it: bytes -> `decode_input` (streams/decoding.py) ->
`take_input` (check and observe, processors/pipeline.py). About 2,500 generated inputs per run (400
random byte strings, 600 hostile survey responses, 3 x 300 truncated or padded records, 300 hostile
staff stories, 300 far-out event times and 64-bit scores written as raw Avro longs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processors.pipeline import (
    Check,
    Observation,
    Observe,
    PipelineConfig,
    observe_staff_feedback,
    observe_survey_response,
    take_input,
)
from processors.taxonomy import load_taxonomy
from processors.validation import EARLIEST, MAX_CLOCK_SKEW, Rejection, check_staff_feedback, check_survey_response
from processors.windows import WindowSpec
from schemas import AvroCodec, codec_for
from streams.decoding import decode_input
from tests.examples import EXAMPLES
from tests.schemas.test_codec import FIRST_MS, LAST_MS, wire

CONFIG = PipelineConfig(load_taxonomy(), (WindowSpec("live", 3600, 300), WindowSpec("long", 30 * 86400, 86400)))
NOW = datetime(2026, 11, 23, tzinfo=UTC).timestamp()
ORIGIN = ("fuzz:0", 0)
REASONS = set(codec_for("DeadLetter").schema["fields"][4]["type"]["symbols"])
SURVEY = codec_for("SurveyResponse")
STAFF = codec_for("StaffFeedback")
LONGS = st.integers(-(2**63), 2**63 - 1)

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
# Event times anywhere on a long, with the edges of what a date holds and of what the checks accept.
far_out_ms = st.one_of(
    LONGS,
    st.sampled_from([2**62, -(2**62), FIRST_MS, FIRST_MS - 1, LAST_MS, LAST_MS + 1]),
    st.integers(int(EARLIEST * 1000) - 10, int((NOW + MAX_CLOCK_SKEW) * 1000) + 10),
)


def take(raw: Any, codec: AvroCodec, check: Check, observe: Observe) -> Rejection | Observation:
    """What the analysis agents make of one input's bytes."""
    record = decode_input(raw, codec)
    return record if isinstance(record, Rejection) else take_input(record, check, observe, CONFIG, {}, NOW, ORIGIN)


def take_survey(raw: Any) -> Rejection | Observation:
    return take(raw, SURVEY, check_survey_response, observe_survey_response)


def take_staff(raw: Any) -> Rejection | Observation:
    return take(raw, STAFF, check_staff_feedback, observe_staff_feedback)


def assert_handled(outcome: Rejection | Observation) -> None:
    if isinstance(outcome, Rejection):
        assert outcome.reason in REASONS and outcome.reason != "other", outcome
        assert outcome.detail
    else:
        assert isinstance(outcome, Observation) and -1.0 <= outcome.polarity <= 1.0


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.one_of(st.binary(max_size=200), st.binary(max_size=40).map(lambda b: b"\xc3\x01" + b)))
def test_random_bytes_are_rejected_as_undecodable(raw: bytes) -> None:
    outcome = take_survey(raw)
    assert_handled(outcome)
    assert isinstance(outcome, Rejection) and outcome.reason == "undecodable"


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=hostile_survey)
def test_hostile_survey_responses_are_processed_or_rejected_with_a_reason(record: dict[str, Any]) -> None:
    assert_handled(take_survey(SURVEY.encode(record)))


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(min_size=1, max_size=30), cut=st.integers(0, 60))
def test_truncated_and_corrupted_avro_is_rejected(raw: bytes, cut: int) -> None:
    good = SURVEY.encode(EXAMPLES["SurveyResponse"])
    for value in (good[:cut], good[:cut] + raw, good + raw):
        assert_handled(take_survey(value))


@settings(max_examples=300, deadline=None)
@given(verbatim=nasty_text, journey=st.sampled_from([None, "home_delivery", "nowhere"]))
def test_hostile_staff_stories_are_processed_or_rejected(verbatim: str, journey: str | None) -> None:
    record = {**EXAMPLES["StaffFeedback"], "verbatim": verbatim, "journey_id": journey}
    assert_handled(take_staff(STAFF.encode(record)))


@settings(max_examples=300, deadline=None)
@given(ms=far_out_ms, score=st.one_of(LONGS, st.integers(-1, 11)), staff=st.booleans())
def test_far_out_times_and_huge_scores_get_their_own_reason_not_other(ms: int, score: int, staff: bool) -> None:
    """Raw longs past what a date (years 1-9999) or an Avro int holds overflowed to "other" once."""
    if staff:
        outcome = take_staff(wire("StaffFeedback", EXAMPLES["StaffFeedback"], event_time=ms))
    else:
        outcome = take_survey(wire("SurveyResponse", EXAMPLES["SurveyResponse"], event_time=ms, score=score))
    assert_handled(outcome)
    if not FIRST_MS <= ms <= LAST_MS:  # no date holds it: named as it is decoded
        expected: str | None = "event_time_out_of_range"
    elif not staff and not 0 <= score <= 10:
        expected = "score_out_of_range"
    elif not EARLIEST <= ms / 1000 <= NOW + MAX_CLOCK_SKEW:
        expected = "event_time_out_of_range"
    else:
        expected = None
    assert (outcome.reason if isinstance(outcome, Rejection) else None) == expected, outcome
