"""The intake on the real stack: a real `miroir intake serve`, httpx, Kafka, Redis and a pilot worker."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from config.settings import Settings
from schemas import codec_for
from services.intake import PATHS
from tests.integration.kafka_io import consume_all
from tests.services.conftest import TokenFactory
from tools.demo import DemoOptions
from tools.http_sender import send_pilot
from tools.intake import RunningIntake, spawn_intake
from tools.readout import fetch
from tools.workers import free_port, pilot_workers

pytestmark = pytest.mark.integration


def survey(response_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "response_id": response_id,
        "customer_ref": "cust-http",
        "journey_id": "home_delivery",
        "step_id": "delivery",
        "score": 3,
        "score_scale": "NPS",
        "verbatim": "Livraison en retard et livreur désagréable.",
        "site": "lyon-part-dieu",
        "event_time": datetime.now(UTC).isoformat(),
        **changes,
    }


def staff(feedback_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "feedback_id": feedback_id,
        "staff_ref": "staff-http",
        "site": "lyon-part-dieu",
        "prompt": "most_frustrating",
        "verbatim": "Le retrait en magasin est débordé le samedi.",
        "event_time": datetime.now(UTC).isoformat(),
        **changes,
    }


# A story that names no step of its journey (phone_shop: the pilot below sends none of it).
SILENT = "Le client est reparti sans un mot, je ne sais toujours pas quoi en penser."


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def staff_mentions(url: str, journey: str, step: str) -> int:
    states = fetch(url, "/mirror/")["states"]
    return sum(
        s["staff"]["n"] for s in states if (s["journey_id"], s["step_id"], s["window"]) == (journey, step, "live")
    )


def wait_for_counters(url: str, processed: int, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    counters: dict[str, Any] = {}
    while time.monotonic() < deadline:
        counters = fetch(url, "/counters/")
        if counters["processed"] >= processed:
            return counters
        time.sleep(1)
    raise AssertionError(f"the pilot processed {counters.get('processed')} of {processed} within {timeout:.0f}s")


def test_posted_answers_become_processed_inputs_of_the_mirror(
    stack: Settings,
    intake: RunningIntake,
    intake_topics: dict[str, str],
    new_token: TokenFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, token = new_token()
    run = uuid.uuid4().hex[:8]
    with pilot_workers(stack, Console(quiet=True), env=intake_topics) as urls:  # a pilot starts at the topics' ends
        one = httpx.post(f"{intake.url}{PATHS['survey']}", json=survey(f"{run}-r"), headers=bearer(token), timeout=30)
        assert one.status_code == 202, one.text
        other = httpx.post(f"{intake.url}{PATHS['staff']}", json=staff(f"{run}-f"), headers=bearer(token), timeout=30)
        assert other.status_code == 202, other.text
        # A story with the step its teller picked: counted on that step, though the text names none.
        picked = staff(f"{run}-p", journey_id="phone_shop", step_id="returns", verbatim=SILENT)
        stepped = httpx.post(f"{intake.url}{PATHS['staff']}", json=picked, headers=bearer(token), timeout=30)
        assert stepped.status_code == 202, stepped.text
        # A sender's retry of the same answer: accepted again, counted once (as a duplicate).
        again = httpx.post(f"{intake.url}{PATHS['survey']}", json=survey(f"{run}-r"), headers=bearer(token), timeout=30)
        assert again.status_code == 202, again.text

        # `miroir simulate --via http`'s sender, pointed at this intake.
        monkeypatch.setenv("MIROIR_INTAKE_PORT", intake.url.rsplit(":", 1)[1])
        sent = send_pilot(Settings(), DemoOptions(40, 11, 400.0, 0.0, True, None), on_progress=lambda n: None)
        assert sent == 40

        counters = wait_for_counters(urls[0], 43)
        deadline = time.monotonic() + 30
        while counters["in"] < 44 and time.monotonic() < deadline:
            counters = fetch(urls[0], "/counters/")
            time.sleep(0.5)
        while staff_mentions(urls[0], "phone_shop", "returns") < 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert staff_mentions(urls[0], "phone_shop", "returns") == 1
    assert counters["processed"] == 43 and counters["duplicate"] == 1 and counters["dead_lettered"] == 0
    assert counters["in"] == counters["processed"] + counters["duplicate"]


def test_a_refused_answer_names_its_field(intake: RunningIntake, new_token: TokenFactory) -> None:
    _, token = new_token()
    response = httpx.post(
        f"{intake.url}{PATHS['survey']}", json=survey("bad-1", score=11), headers=bearer(token), timeout=30
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "score"
    assert "0..10" in response.json()["error"]["message"]


def test_a_batch_with_one_bad_item_is_207_and_only_the_good_reach_kafka(
    stack: Settings, intake: RunningIntake, intake_topics: dict[str, str], new_token: TokenFactory
) -> None:
    _, token = new_token()
    run = uuid.uuid4().hex[:8]
    batch = [survey(f"{run}-0"), survey(f"{run}-1", journey_id="moon_trip"), survey(f"{run}-2")]
    response = httpx.post(f"{intake.url}{PATHS['survey']}", json=batch, headers=bearer(token), timeout=30)
    assert response.status_code == 207, response.text
    body = response.json()
    assert [(i["id"], i["status"]) for i in body["items"]] == [(f"{run}-0", 202), (f"{run}-1", 422), (f"{run}-2", 202)]
    assert body["items"][1]["error"]["field"] == "journey_id"

    codec = codec_for("SurveyResponse")
    in_kafka = {
        m.key.decode(): codec.decode(m.value)
        for m in consume_all(stack, intake_topics["MIROIR_SURVEY_TOPIC"])
        if m.key.decode().startswith(run)
    }
    assert sorted(in_kafka) == [f"{run}-0", f"{run}-2"]
    assert in_kafka[f"{run}-0"]["response_id"] == f"{run}-0"


def test_tokens_401_without_403_after_revoke_with_the_cli(intake: RunningIntake, stack: Settings) -> None:
    url = f"{intake.url}{PATHS['survey']}"
    assert httpx.post(url, json=survey("anon"), timeout=30).status_code == 401
    assert httpx.post(url, json=survey("x"), headers=bearer("mir_never-issued"), timeout=30).status_code == 401

    name = f"test-cli-{uuid.uuid4().hex[:8]}"
    cli = [sys.executable, "-m", "miroir.cli", "intake", "token"]
    created = subprocess.run([*cli, "create", "--name", name], capture_output=True, text=True, check=True)
    token = created.stdout.strip()  # the token alone on stdout, the words around it on stderr
    assert token.startswith("mir_") and token not in created.stderr
    try:
        assert httpx.post(url, json=survey(f"{name}-1"), headers=bearer(token), timeout=30).status_code == 202
        listed = subprocess.run([*cli, "list"], capture_output=True, text=True, check=True).stdout
        assert name in listed and token not in listed
        subprocess.run([*cli, "revoke", "--name", name], capture_output=True, text=True, check=True)
        revoked = httpx.post(url, json=survey(f"{name}-2"), headers=bearer(token), timeout=30)
        assert revoked.status_code == 403 and revoked.json()["error"]["reason"] == "revoked_token"
    finally:
        from tools.intake import with_tokens

        with_tokens(stack, lambda store: store.forget(name))


def test_a_body_over_the_limit_is_413(intake: RunningIntake, new_token: TokenFactory) -> None:
    _, token = new_token()
    batch = [survey(f"big-{i}", verbatim="x" * 1000) for i in range(100)]  # ~130 kB, the limit is 64 kiB
    response = httpx.post(f"{intake.url}{PATHS['survey']}", json=batch, headers=bearer(token), timeout=30)
    assert response.status_code == 413 and response.json()["error"]["reason"] == "too_large"


def test_over_the_rate_is_429_with_retry_after(intake: RunningIntake, new_token: TokenFactory) -> None:
    _, token = new_token()
    burst = int(intake.env["MIROIR_INTAKE_RATE_BURST"])
    with httpx.Client(base_url=intake.url, headers=bearer(token), timeout=30) as client:
        responses = [client.post(PATHS["survey"], content=b"[]") for _ in range(burst * 2)]
    codes = [response.status_code for response in responses]
    assert codes[:burst] == [422] * burst  # within the burst: through to the (empty) batch's own answer
    limited = next(response for response in responses if response.status_code == 429)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    time.sleep(int(limited.headers["retry-after"]))
    assert httpx.post(f"{intake.url}{PATHS['survey']}", content=b"[]", headers=bearer(token)).status_code == 422


def test_an_unreachable_broker_is_503_with_retry_after(stack: Settings, new_token: TokenFactory, tmp_path: Any) -> None:
    _, token = new_token()
    closed = free_port()  # nothing listens there
    down = spawn_intake(tmp_path / "intake.log", MIROIR_KAFKA_BOOTSTRAP_SERVERS=f"localhost:{closed}")
    try:
        started = time.monotonic()
        response = httpx.post(f"{down.url}{PATHS['survey']}", json=survey("down-1"), headers=bearer(token), timeout=60)
        assert response.status_code == 503, response.text
        assert int(response.headers["retry-after"]) >= 1
        assert time.monotonic() - started < Settings().intake.send_timeout + 5  # bounded
        health = httpx.get(f"{down.url}/healthz", timeout=30)
        assert health.status_code == 503 and health.json()["kafka"] != "ok" and health.json()["redis"] == "ok"
    finally:
        down.stop()


def test_health_openapi_docs_and_metrics_are_served(intake: RunningIntake) -> None:
    assert httpx.get(f"{intake.url}/healthz", timeout=30).json() == {
        "service": "miroir-intake",
        "kafka": "ok",
        "redis": "ok",
    }
    spec = httpx.get(f"{intake.url}/v1/openapi.json", timeout=30).json()
    assert set(PATHS.values()) <= set(spec["paths"])
    assert "event_time" in spec["components"]["schemas"]["StaffFeedback"]["properties"]
    assert httpx.get(f"{intake.url}/docs", timeout=30).status_code == 200
    metrics = httpx.get(f"{intake.url}/metrics", timeout=30).text
    assert 'miroir_intake_requests_total{route="/healthz",status="200",token="-"}' in metrics


def test_a_survey_tools_webhook_reaches_kafka_and_an_unknown_mapping_is_404(
    stack: Settings, intake: RunningIntake, intake_topics: dict[str, str], new_token: TokenFactory
) -> None:
    _, token = new_token()
    payload = json.loads((Path(__file__).parents[1] / "fixtures" / "qualtrics_json_event.json").read_text())
    payload["responseId"] = f"R_{uuid.uuid4().hex[:12]}"
    hook = httpx.post(f"{intake.url}/v1/hooks/qualtrics-json-event", json=payload, headers=bearer(token), timeout=30)
    assert hook.status_code == 202, hook.text
    keys = [m.key.decode() for m in consume_all(stack, intake_topics["MIROIR_SURVEY_TOPIC"])]
    assert payload["responseId"] in keys

    response = httpx.post(f"{intake.url}/v1/hooks/no-such-tool", json={}, headers=bearer(token), timeout=30)
    assert response.status_code == 404 and response.json()["error"]["reason"] == "unknown_mapping"
