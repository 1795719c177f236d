"""Access and PII: the mirror needs its token; planted contact details never leave but for the queue."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from rich.console import Console

from config.settings import PipelineSettings, Settings, settings
from processors.callbacks import callback_id
from schemas import codec_for
from sinks.callback_queue import callback_key
from tests.e2e.test_callbacks import stream_ids, wait_for
from tests.integration.kafka_io import consume_all
from tools.producer import RecordProducer
from tools.workers import pilot_workers

PHONE, EMAIL = "06 12 34 56 78", "jeanne.martin@example.org"


def get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_token_guards_the_mirror_and_pii_stays_in_the_queue(
    stack: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, site = uuid.uuid4().hex, f"site-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("MIROIR_WEB_TOKEN", token)
    # This process's settings were read before: let it (like the worker) know the token.
    monkeypatch.setitem(settings.__dict__, "pipeline", PipelineSettings())
    started = datetime.now(UTC)
    planted = [
        {
            "response_id": f"{site}-{i}",
            "customer_ref": f"{site}-c{i}",
            "journey_id": "home_delivery",
            "step_id": "pickup",
            "score": 1,
            "score_scale": "NPS",
            "site": site,
            "callback_consent": True,
            "verbatim": f"Retrait catastrophique, une heure d'attente, rappelez-moi au {PHONE} ou {EMAIL}",
            "contact": {"name": "Jeanne Martin", "email": EMAIL, "phone": PHONE},
            "event_time": datetime.now(UTC),
        }
        for i in range(6)
    ]
    with pilot_workers(stack, Console(quiet=True)) as urls:
        url = urls[0]
        with RecordProducer(stack) as producer:
            for record in planted:
                producer.send("survey", record)
        assert wait_for(lambda: len(stream_ids(stack.redis.dsn, site)) == 6)

        for path in ("/", "/mirror/", "/counters/", "/journeys/"):
            assert get(url + path)[0] == 401, path
            assert get(url + path, token)[0] == 200, path
        assert get(f"{url}/mirror/?token={token}")[0] == 200
        assert get(url + "/static/mirror.js")[0] == 200  # no data in it

        def evidence_arrived() -> str:
            body = get(url + "/mirror/", token)[1]
            return body if "Retrait catastrophique" in body else ""

        mirror = wait_for(evidence_arrived)
        assert "Retrait catastrophique" in mirror and "[phone]" in mirror and "[email]" in mirror
        metrics = get(url + "/metrics")[1]
    log = max(Path(stack.stack.run_dir, "logs").glob("worker-*.log"), key=lambda p: p.stat().st_mtime).read_text()
    states = [m.value for m in consume_all(stack, stack.pipeline.topics.mirror_states)]
    alerts = [m.value for m in consume_all(stack, stack.pipeline.topics.step_alerts)]
    for leak in (PHONE, EMAIL, "Jeanne"):
        assert leak not in mirror and leak not in metrics and leak not in log
        assert not any(leak.encode() in value for value in states + alerts)
    queue = redis.Redis.from_url(stack.redis.dsn, decode_responses=True)
    try:
        assert queue.hget(callback_key(callback_id(f"{site}-0")), "contact_phone") == PHONE  # the one place it lives
    finally:
        queue.close()
    ours = [codec_for("MirrorState").decode(v) for v in states]
    assert any(s["computed_at"] >= started and s["step_id"] == "pickup" for s in ours)
