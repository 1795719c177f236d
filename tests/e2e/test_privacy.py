"""Erasure end to end: a real worker, Kafka, Redis and managers' app. An erased customer's evidence
leaves the live mirror, and the same person sent again (a replay, a retried export) is counted as
erased and nothing else: no callback, no evidence. A staff name planted in staff_ref is nowhere."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from config.settings import Settings
from tests.e2e.test_callbacks import stream_ids, wait_for
from tests.e2e.test_security import get
from tests.integration.kafka_io import consume_all
from tests.services.test_managers import World, account, bearer, start_world
from tools.producer import RecordProducer
from tools.workers import pilot_workers


@pytest.fixture(scope="module")
def managers(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from start_world(stack, tmp_path_factory.mktemp("privacy-e2e"))


def response(site: str, rid: str, ref: str, email: str, word: str) -> dict[str, Any]:
    return {
        "response_id": rid,
        "customer_ref": ref,
        "journey_id": "home_delivery",
        "step_id": "pickup",
        "score": 1,
        "score_scale": "NPS",
        "site": site,
        "callback_consent": True,
        "verbatim": f"Retrait {word} : une heure d'attente au comptoir, personne pour m'aider",
        "contact": {"name": "Jeanne Martin", "email": email, "phone": None},
        "event_time": datetime.now(UTC),
    }


def test_an_erased_customer_leaves_the_mirror_and_does_not_come_back(stack: Settings, managers: World) -> None:
    run = uuid.uuid4().hex[:8]
    site, word, other_word = f"site-{run}", f"zorglub{run}", f"bulgroz{run}"
    email, staff_name = f"jeanne-{run}@example.org", f"Jean-Planté Dupont {run}"
    _, admin = account(stack, "admin")
    env = {"MIROIR_PRIVACY_ERASURES_INTERVAL": "1s"}
    with pilot_workers(stack, Console(quiet=True), env=env) as urls, RecordProducer(stack) as producer:
        url = urls[0]
        producer.send("survey", response(site, f"{site}-r1", f"C-{run}", email, word))
        producer.send("survey", response(site, f"{site}-r2", f"Q-{run}", f"paul-{run}@example.org", other_word))
        producer.send(
            "staff",
            {
                "feedback_id": f"{site}-f1",
                "staff_ref": staff_name,
                "site": site,
                "journey_id": "home_delivery",
                "step_id": "pickup",
                "prompt": "most_frustrating",
                "verbatim": "Le retrait est débordé, les clients attendent une heure.",
                "event_time": datetime.now(UTC),
            },
        )
        producer.flush()
        assert wait_for(lambda: len(stream_ids(stack.redis.dsn, site)) == 2, 90)
        assert wait_for(lambda: word in get(url + "/mirror/")[1] and other_word in get(url + "/mirror/")[1], 90)

        erased = httpx.post(
            managers.url + "/v1/privacy/erasures", json={"email": email}, headers=bearer(admin), timeout=30
        )
        assert erased.status_code == 200 and len(erased.json()["callbacks"]) == 1, erased.text
        # The worker hears of it within its interval and forgets the evidence; the other customer's stays.
        assert wait_for(lambda: word not in get(url + "/mirror/")[1], 60), "the erased evidence is still shown"
        assert other_word in get(url + "/mirror/")[1]

        # Sent again (a replay with a new id, and a retried send with the same one): counted, nothing kept.
        producer.send("survey", response(site, f"{site}-r3", f"C-{run}", email, word))
        producer.send("survey", response(site, f"{site}-r1", f"C-{run}", email, word))
        producer.flush()
        assert wait_for(lambda: _counters(url).get("erased", 0) >= 2, 60), _counters(url)
        counters = _counters(url)
        assert counters["in"] == counters["processed"] + counters["dead_lettered"] + counters["duplicate"] + 2
        assert len(stream_ids(stack.redis.dsn, site)) == 2  # no new callback for them
        assert word not in get(url + "/mirror/")[1]

        mirror, metrics = get(url + "/mirror/")[1], get(url + "/metrics")[1]
    log = max(Path(stack.stack.run_dir, "logs").glob("worker-*.log"), key=lambda p: p.stat().st_mtime).read_text()
    states = [m.value for m in consume_all(stack, stack.pipeline.topics.mirror_states)]
    for leak in ("Planté", email, word):
        assert leak not in mirror and leak not in metrics and leak not in log, leak
        assert not any(leak.encode() in value for value in states), leak


def _counters(url: str) -> dict[str, Any]:
    return dict(json.loads(get(url + "/counters/")[1]))
