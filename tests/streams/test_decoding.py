"""decode_input: bytes -> a record, or a Rejection with a named reason; it never raises."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from processors.pipeline import PipelineConfig, observe_survey_response, take_input
from processors.taxonomy import load_taxonomy
from processors.validation import Rejection, check_survey_response
from schemas import codec_for
from streams.decoding import decode_input
from tests.examples import EXAMPLES
from tests.schemas.test_codec import wire

SURVEY = codec_for("SurveyResponse")
CONFIG = PipelineConfig(load_taxonomy(), ())
NOW = datetime(2026, 11, 23, tzinfo=UTC).timestamp()


def test_a_good_record_decodes() -> None:
    assert decode_input(SURVEY.encode(EXAMPLES["SurveyResponse"]), SURVEY) == EXAMPLES["SurveyResponse"]


@pytest.mark.parametrize("ms", [2**62, -(2**62), 2**63 - 1, -(2**63)])
def test_an_event_time_no_date_holds_is_event_time_out_of_range(ms: int) -> None:
    outcome = decode_input(wire("SurveyResponse", EXAMPLES["SurveyResponse"], event_time=ms), SURVEY)
    assert isinstance(outcome, Rejection)
    assert outcome.reason == "event_time_out_of_range"
    assert outcome.detail.startswith(f"SurveyResponse.event_time: timestamp-millis {ms} is out of range")


@pytest.mark.parametrize("score", [2**31, 2**40, -(2**40), 2**63 - 1])
def test_a_score_beyond_an_int_decodes_and_its_check_names_it(score: int) -> None:
    record = decode_input(wire("SurveyResponse", EXAMPLES["SurveyResponse"], score=score), SURVEY)
    assert isinstance(record, dict) and record["score"] == score
    outcome = take_input(record, check_survey_response, observe_survey_response, CONFIG, {}, NOW, ("t:0", 0))
    assert isinstance(outcome, Rejection) and outcome.reason == "score_out_of_range"
    assert f"score {score} not in 0..10" in outcome.detail


@pytest.mark.parametrize("raw", [None, "text", 42, b"", b"\xc3\x01"])
def test_what_is_not_bytes_of_the_schema_is_undecodable(raw: Any) -> None:
    outcome = decode_input(raw, SURVEY)
    assert isinstance(outcome, Rejection) and outcome.reason == "undecodable"


def test_an_error_the_codec_does_not_name_is_still_a_rejection(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_: Any) -> None:
        raise MemoryError("a length no memory holds")

    monkeypatch.setattr("schemas.codec.fastavro.schemaless_reader", explode)
    outcome = decode_input(SURVEY.encode(EXAMPLES["SurveyResponse"]), SURVEY)
    assert outcome == Rejection("undecodable", "SurveyResponse: MemoryError: a length no memory holds")
