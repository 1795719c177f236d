"""The intake's app without the stack: httpx against the ASGI app, Kafka and Redis faked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from config.settings import Settings
from schemas import codec_for
from services.intake.app import create_app
from tests.examples import EXAMPLES
from tests.services.fakes import GOOD, REVOKED, FakeErasures, FakeSender, FakeTokens

AUTH = {"Authorization": f"Bearer {GOOD}"}


def survey(**changes: Any) -> dict[str, Any]:
    record = {**EXAMPLES["SurveyResponse"], "event_time": EXAMPLES["SurveyResponse"]["event_time"].isoformat()}
    return {**record, **changes}


def staff(**changes: Any) -> dict[str, Any]:
    record = {**EXAMPLES["StaffFeedback"], "event_time": "2026-11-23T10:30:00+01:00"}
    return {**record, **changes}


Build = Callable[..., tuple[FastAPI, FakeSender]]


@pytest.fixture
def build(monkeypatch: pytest.MonkeyPatch) -> Build:
    def make(down: bool = False, unconfirmed: frozenset[str] = frozenset(), **env: str) -> tuple[FastAPI, FakeSender]:
        for name, value in env.items():
            monkeypatch.setenv(f"MIROIR_INTAKE_{name.upper()}", value)
        sender = FakeSender(down, unconfirmed)
        return create_app(Settings(), sender=sender, tokens=FakeTokens(), erasures=FakeErasures()), sender

    return make


@pytest.fixture
async def client(build: Build) -> AsyncIterator[tuple[httpx.AsyncClient, FakeSender]]:
    app, sender = build()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as http:
        yield http, sender


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake")


async def test_one_answer_is_accepted_once_sent_keyed_by_its_id(client: Any) -> None:
    http, sender = client
    response = await http.post("/v1/survey-responses", json=survey(), headers=AUTH)
    assert response.status_code == 202, response.text
    assert response.json() == {"id": "r-1", "status": "accepted"}
    [(topic, key, value)] = sender.sent
    assert topic == Settings().pipeline.topics.survey_responses and key == "r-1"
    decoded = codec_for("SurveyResponse").decode(value)
    assert decoded["event_time"] == EXAMPLES["SurveyResponse"]["event_time"]
    assert decoded["contact"]["email"] == "a.martin@example.org"


async def test_staff_feedback_goes_to_its_topic_with_defaults_filled(client: Any) -> None:
    http, sender = client
    record = staff()
    del record["schema_version"], record["journey_id"], record["step_id"], record["language"]
    response = await http.post("/v1/staff-feedback", json=record, headers=AUTH)
    assert response.status_code == 202, response.text
    [(topic, key, value)] = sender.sent
    assert topic == Settings().pipeline.topics.staff_feedback and key == "f-1"
    decoded = codec_for("StaffFeedback").decode(value)
    assert decoded["schema_version"] == 2 and decoded["journey_id"] is None and decoded["step_id"] is None
    assert decoded["event_time"].isoformat() == "2026-11-23T09:30:00+00:00"


async def test_a_staff_story_s_step_is_kept_and_must_be_of_its_journey(client: Any) -> None:
    http, sender = client
    for change in ({"step_id": "delivery"}, {"journey_id": "click_collect", "step_id": "delivery"}):
        refused = await http.post("/v1/staff-feedback", json=staff(**change), headers=AUTH)
        assert refused.status_code == 422, refused.text
        assert (refused.json()["error"]["field"], refused.json()["error"]["reason"]) == ("step_id", "unknown_step")
    accepted = await http.post(
        "/v1/staff-feedback", json=staff(journey_id="home_delivery", step_id="delivery"), headers=AUTH
    )
    assert accepted.status_code == 202, accepted.text
    [(_, _, value)] = sender.sent
    assert codec_for("StaffFeedback").decode(value)["step_id"] == "delivery"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"score": 11}, "score", "score_out_of_range"),
        ({"score": "7"}, "score", "invalid_field"),
        ({"score_scale": "STARS"}, "score_scale", "invalid_field"),
        ({"journey_id": "moon_trip"}, "journey_id", "unknown_journey"),
        ({"step_id": "teleport"}, "step_id", "unknown_step"),
        ({"verbatim": "  "}, "verbatim", "empty_verbatim"),
        ({"verbatim": "x" * 20_000}, "verbatim", "verbatim_too_long"),
        ({"event_time": "2099-01-01T00:00:00Z"}, "event_time", "event_time_out_of_range"),
        ({"event_time": "1999-12-31T23:00:00Z"}, "event_time", "event_time_out_of_range"),
        ({"event_time": "2026-11-23T09:30:00"}, "event_time", "invalid_field"),
        ({"event_time": 1763890200000}, "event_time", "invalid_field"),
        ({"response_id": " "}, "response_id", "empty_id"),
        ({"contact": {"emial": "a@b.c"}}, "contact.emial", "unknown_field"),
        ({"scroe": 3}, "scroe", "unknown_field"),
    ],
)
async def test_a_refused_answer_names_its_field_and_why(
    client: Any, change: dict[str, Any], field: str, reason: str
) -> None:
    http, sender = client
    response = await http.post("/v1/survey-responses", json=survey(**change), headers=AUTH)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["field"], error["reason"]) == (field, reason)
    assert error["message"]
    assert sender.sent == []


async def test_a_missing_field_is_named(client: Any) -> None:
    http, _ = client
    record = survey()
    del record["site"]
    response = await http.post("/v1/survey-responses", json=record, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["error"] | {"message": ""} == {"field": "site", "reason": "missing_field", "message": ""}


async def test_a_batch_answers_item_by_item_and_sends_only_the_good(client: Any) -> None:
    http, sender = client
    batch = [survey(response_id="b-0"), survey(response_id="b-1", score=42), survey(response_id="b-2"), "oops"]
    response = await http.post("/v1/survey-responses", json=batch, headers=AUTH)
    assert response.status_code == 207, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"], body["unavailable"]) == (2, 2, 0)
    assert [(i["index"], i["status"], i["id"]) for i in body["items"]] == [
        (0, 202, "b-0"),
        (1, 422, "b-1"),
        (2, 202, "b-2"),
        (3, 422, None),
    ]
    assert body["items"][1]["error"]["field"] == "score"
    assert [key for _, key, _ in sender.sent] == ["b-0", "b-2"]


async def test_a_batch_all_good_is_202_all_bad_is_422(client: Any) -> None:
    http, sender = client
    good = await http.post("/v1/survey-responses", json=[survey(response_id=f"g-{i}") for i in range(3)], headers=AUTH)
    assert good.status_code == 202 and good.json()["accepted"] == 3
    bad = await http.post("/v1/survey-responses", json=[survey(score=-1), survey(verbatim="")], headers=AUTH)
    assert bad.status_code == 422 and bad.json()["rejected"] == 2
    assert len(sender.sent) == 3


async def test_an_unconfirmed_record_is_never_reported_accepted(build: Build) -> None:
    app, _ = build(unconfirmed=frozenset({"u-1"}))
    async with _client(app) as http:
        response = await http.post(
            "/v1/survey-responses", json=[survey(response_id="u-0"), survey(response_id="u-1")], headers=AUTH
        )
    assert response.status_code == 207 and response.headers["retry-after"]
    assert [i["status"] for i in response.json()["items"]] == [202, 503]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        (b"[]", "empty_batch"),
    ],
)
async def test_a_body_that_is_not_records_is_422(client: Any, body: bytes, reason: str) -> None:
    http, _ = client
    response = await http.post("/v1/survey-responses", content=body, headers=AUTH)
    assert response.status_code == 422 and response.json()["error"]["reason"] == reason


async def test_size_limits_are_413(build: Build) -> None:
    app, sender = build(max_body_bytes="2048", batch_max="3")
    async with _client(app) as http:
        big = await http.post("/v1/survey-responses", json=survey(verbatim="x" * 4000), headers=AUTH)
        assert big.status_code == 413 and big.json()["error"]["reason"] == "too_large"

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
            yield b"[" + json.dumps(survey()).encode()
            for _ in range(5):
                yield b"," + json.dumps(survey()).encode()
            yield b"]"

        chunked = await http.post("/v1/survey-responses", content=chunks(), headers=AUTH)
        assert chunked.status_code == 413
        many = await http.post("/v1/survey-responses", json=[survey(verbatim="ok")] * 4, headers=AUTH)
        assert many.status_code == 413 and many.json()["error"]["reason"] == "batch_too_large"
    assert sender.sent == []


async def test_tokens_401_without_or_unknown_403_revoked(client: Any) -> None:
    http, sender = client
    none = await http.post("/v1/survey-responses", json=survey())
    assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer"
    unknown = await http.post("/v1/survey-responses", json=survey(), headers={"Authorization": "Bearer mir_nope"})
    assert unknown.status_code == 401 and unknown.json()["error"]["reason"] == "unknown_token"
    basic = await http.post("/v1/survey-responses", json=survey(), headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401
    revoked = await http.post("/v1/survey-responses", json=survey(), headers={"Authorization": f"Bearer {REVOKED}"})
    assert revoked.status_code == 403 and revoked.json()["error"]["reason"] == "revoked_token"
    assert sender.sent == []


async def test_over_the_rate_is_429_with_retry_after(build: Build) -> None:
    app, _ = build(rate_per_token="0.5", rate_burst="2")
    async with _client(app) as http:
        codes = [(await http.post("/v1/survey-responses", json=survey(), headers=AUTH)).status_code for _ in range(2)]
        limited = await http.post("/v1/survey-responses", json=survey(), headers=AUTH)
    assert codes == [202, 202]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


async def test_kafka_down_is_503_with_retry_after_and_unhealthy(build: Build) -> None:
    app, _ = build(down=True, retry_after="7")
    async with _client(app) as http:
        response = await http.post("/v1/survey-responses", json=survey(), headers=AUTH)
        assert response.status_code == 503 and response.headers["retry-after"] == "7"
        assert response.json()["error"]["reason"] == "kafka_unavailable"
        health = await http.get("/healthz")
        assert health.status_code == 503 and health.json()["kafka"] != "ok"
        # A record the door refuses is still refused for what it is.
        assert (await http.post("/v1/survey-responses", json=survey(score=99), headers=AUTH)).status_code == 422


async def test_health_openapi_and_metrics(client: Any) -> None:
    http, _ = client
    health = await http.get("/healthz")
    assert health.status_code == 200 and health.json()["service"] == "miroir-intake"
    spec = (await http.get("/v1/openapi.json")).json()
    assert {"/v1/survey-responses", "/v1/staff-feedback", "/v1/hooks/{mapping}", "/healthz"} <= set(spec["paths"])
    surveys = spec["components"]["schemas"]["SurveyResponse"]
    avro = {f["name"] for f in codec_for("SurveyResponse").schema["fields"]}
    assert set(surveys["properties"]) == avro
    assert "bearer" in json.dumps(spec["components"]["securitySchemes"]).lower()
    for path in ("/v1/survey-responses", "/v1/staff-feedback"):  # nothing but the body says what is sent
        assert spec["paths"][path]["post"].get("parameters", []) == []
    assert (await http.get("/docs")).status_code == 200

    await http.post("/v1/survey-responses", json=survey(), headers=AUTH)
    await http.post("/v1/survey-responses", json=survey())
    metrics = (await http.get("/metrics")).text
    assert 'miroir_intake_requests_total{route="/v1/survey-responses",status="202",token="survey-tool"} 1.0' in metrics
    assert 'miroir_intake_requests_total{route="/v1/survey-responses",status="401",token="-"} 1.0' in metrics
    assert 'miroir_intake_records_total{kind="survey",outcome="accepted"} 1.0' in metrics
    assert "miroir_intake_request_seconds_bucket" in metrics


def test_two_apps_in_one_process_have_their_own_metrics(build: Build) -> None:
    first, _ = build()
    second, _ = build()
    assert first.state.intake.metrics.registry is not second.state.intake.metrics.registry
