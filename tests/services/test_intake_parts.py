"""The intake's pure parts: request models from the .avsc, limits, token hashing, webhook mappings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from config.settings import IntakeSettings, Settings
from processors.config import pipeline_config
from schemas import INPUT_SCHEMAS, codec_for
from services.intake.app import create_app
from services.intake.limits import RateLimiter, TooLarge, read_limited, retry_after
from services.intake.records import Accepted, Problem, check_item, request_model
from sinks.intake_tokens import TOKEN_BYTES, TokenError, check_name, digest, new_token
from tests.services.fakes import GOOD, FakeErasures, FakeSender, FakeTokens
from tests.services.test_intake_app import survey

NOW = datetime(2026, 11, 24, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("kind", sorted(INPUT_SCHEMAS))
def test_the_request_model_has_every_avro_field_and_its_defaults(kind: str) -> None:
    model = request_model(kind)
    fields = codec_for(INPUT_SCHEMAS[kind]).schema["fields"]
    assert list(model.model_fields) == [f["name"] for f in fields]
    for field in fields:
        info = model.model_fields[field["name"]]
        assert info.is_required() == ("default" not in field), field["name"]


def test_times_are_converted_to_utc_datetimes_the_codec_takes() -> None:
    result = check_item("survey", survey(event_time="2026-11-23T10:30:00.250+01:00"), pipeline_config().taxonomy, NOW)
    assert isinstance(result, Accepted)
    assert result.record["event_time"] == datetime(2026, 11, 23, 9, 30, 0, 250_000, tzinfo=UTC)
    codec_for("SurveyResponse").check(result.record)


def test_an_int_past_avro_int_is_named() -> None:
    result = check_item("survey", survey(score=2**40), pipeline_config().taxonomy, NOW)
    assert isinstance(result, Problem) and result.field == "score"


def test_booleans_are_not_numbers_nor_strings_booleans() -> None:
    taxonomy = pipeline_config().taxonomy
    assert isinstance(bad := check_item("survey", survey(score=True), taxonomy, NOW), Problem) and bad.field == "score"
    consent = check_item("survey", survey(callback_consent="yes"), taxonomy, NOW)
    assert isinstance(consent, Problem) and consent.field == "callback_consent"


def test_the_rate_limiter_refills_at_its_rate() -> None:
    limiter = RateLimiter(rate=2.0, burst=3)
    assert [limiter.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a", 0.0) == pytest.approx(0.5)
    assert limiter.take("b", 0.0) == 0.0  # one bucket per token
    assert limiter.take("a", 0.5) == 0.0
    assert limiter.take("a", 100.0) == 0.0 and limiter._buckets["a"].tokens == 2.0  # capped at the burst
    assert retry_after(0.01) == "1" and retry_after(2.1) == "3"


async def test_a_body_is_cut_off_at_the_limit() -> None:
    async def chunks(n: int) -> AsyncIterator[bytes]:
        for _ in range(n):
            yield b"x" * 100

    assert await read_limited(chunks(3), None, 300) == b"x" * 300
    with pytest.raises(TooLarge):
        await read_limited(chunks(4), None, 300)
    with pytest.raises(TooLarge):
        await read_limited(chunks(0), "301", 300)


def test_tokens_are_random_and_only_their_digest_is_kept() -> None:
    token = new_token()
    assert token.startswith("mir_") and len(token) >= 4 + TOKEN_BYTES * 4 // 3
    assert token != new_token()
    assert digest(token) == hashlib.sha256(token.encode()).hexdigest() and token not in digest(token)
    assert check_name("survey-tool_1.fr") == "survey-tool_1.fr"
    for bad in ("", "a b", "x" * 65, "é"):
        with pytest.raises(TokenError):
            check_name(bad)


def test_intake_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIROIR_INTAKE_PORT", "9999")
    monkeypatch.setenv("MIROIR_INTAKE_HOST", "0.0.0.0")
    monkeypatch.setenv("MIROIR_INTAKE_SEND_TIMEOUT", "2s")
    intake = Settings().intake
    assert (intake.port, intake.url, intake.send_timeout) == (9999, "http://localhost:9999", 2.0)
    assert IntakeSettings.model_fields["batch_max"].default == 500


# ---------------------------------------------------------------- webhooks (processors/mapping.py's shipped mappings)

FIXTURES = Path(__file__).parents[1] / "fixtures"


async def test_a_webhook_is_mapped_checked_and_sent() -> None:
    sender = FakeSender()
    app = create_app(Settings(), sender=sender, tokens=FakeTokens(), erasures=FakeErasures())
    auth = {"Authorization": f"Bearer {GOOD}"}
    qualtrics = json.loads((FIXTURES / "qualtrics_json_event.json").read_text())
    formbricks = json.loads((FIXTURES / "formbricks_response_finished.json").read_text())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as http:
        ok = await http.post("/v1/hooks/qualtrics-json-event", json=qualtrics, headers=auth)
        assert ok.status_code == 202, ok.text
        assert ok.json()["id"] == "R_1dYk8PqW3nVz5Hc"
        both = await http.post("/v1/hooks/formbricks-response-finished", json=[formbricks], headers=auth)
        assert both.status_code == 202, both.text

        unmapped = await http.post("/v1/hooks/qualtrics-json-event", json={"responseId": "R_2"}, headers=auth)
        assert unmapped.status_code == 422, unmapped.text
        assert unmapped.json()["error"]["field"] == "score" and unmapped.json()["error"]["reason"] == "unmapped"
        off_scale = {**qualtrics, "responseId": "R_3", "answers": {**qualtrics["answers"], "nps": "12"}}
        refused = await http.post("/v1/hooks/qualtrics-json-event", json=off_scale, headers=auth)
        assert refused.status_code == 422 and refused.json()["error"]["reason"] == "score_out_of_range"

        unknown = await http.post("/v1/hooks/surveymonkey", json={}, headers=auth)
        assert unknown.status_code == 404 and unknown.json()["error"]["reason"] == "unknown_mapping"
        for path in ("/v1/hooks/..%2Fpyproject", "/v1/hooks/pyproject.toml"):  # a path is never read
            assert (await http.post(path, json={}, headers=auth)).status_code in (404, 422)
        assert (await http.post("/v1/hooks/qualtrics-json-event", json=qualtrics)).status_code == 401
    records = [codec_for("SurveyResponse").decode(value) for _, _, value in sender.sent]
    assert [r["response_id"] for r in records] == ["R_1dYk8PqW3nVz5Hc", "rsp9c3k1w0004lp7d2x8m6qaz"]
    assert records[0]["score"] == 0 and records[0]["event_time"] == datetime(2025, 3, 18, 14, 2, 37, tzinfo=UTC)
