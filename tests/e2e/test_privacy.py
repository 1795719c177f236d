"""Erasure end to end: a real worker, Kafka, Redis and managers' app. An erased customer's evidence
leaves the live mirror, and the same person sent again (a replay, a retried export) is counted as
erased and nothing else: no callback, no evidence. A staff name planted in staff_ref is nowhere."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from rich.console import Console
from typer.testing import CliRunner

from config.settings import Settings
from infra.topics import described, ensure_topics
from miroir.cli import app as cli
from processors.privacy import retention
from schemas import codec_for
from sinks.callback_queue import CallbackQueue, callback_key
from sinks.privacy import contact_free
from tests.e2e.test_callbacks import stream_ids, wait_for
from tests.e2e.test_security import get
from tests.integration.kafka_io import consume_all
from tests.services.test_managers import World, account, bearer, start_world
from tests.services.test_privacy import admit, request
from tools.bench.notify_rig import private_redis
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
    ensure_topics(stack)  # what `stack up` does: a stack started by an earlier release lacks dead-letter-log
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
        bad = {**response(site, f"{site}-bad", f"B-{run}", f"bad-{run}@example.org", word), "score": 42}
        producer.send("survey", bad)
        producer.flush()
        assert wait_for(lambda: len(stream_ids(stack.redis.dsn, site)) == 2, 90)
        assert wait_for(lambda: word in get(url + "/mirror/")[1] and other_word in get(url + "/mirror/")[1], 90)

        # An access request finds her callback in Redis and her evidence in the worker's tables.
        exported = CliRunner().invoke(
            cli, ["privacy", "export", "--email", email, "--worker", url, "--token", admin, "--url", managers.url]
        )
        assert exported.exit_code == 0, exported.output
        found = json.loads(exported.stdout)
        assert [c["response_id"] for c in found["callbacks"]] == [f"{site}-r1"]
        assert found["evidence"] and all(e["id"] == f"{site}-r1" for e in found["evidence"])
        assert any(word in e["text"] for e in found["evidence"]) and "evidence_not_read" not in found

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
    # The rejected answer: its bytes in dead-letters (kept dead_letter_days), its reason and origin
    # without them in dead-letter-log (kept case_days).
    topics, codec = stack.pipeline.topics, codec_for("DeadLetter")
    letters = [codec.decode(m.value) for m in consume_all(stack, topics.dead_letters)]
    letter = next(d for d in letters if f"{site}-bad".encode() in d["original"])
    origin = (letter["source_topic"], letter["source_partition"], letter["source_offset"])
    logged = [codec.decode(m.value) for m in consume_all(stack, topics.dead_letter_log)]
    entry = next(d for d in logged if (d["source_topic"], d["source_partition"], d["source_offset"]) == origin)
    assert entry["reason"] == letter["reason"] == "score_out_of_range" and letter["detail"]
    assert (entry["original"], entry["detail"]) == (b"", "")
    ms = retention(stack.privacy).topic_retention_ms()
    kept = described(stack, [topics.dead_letters, topics.dead_letter_log])
    assert [v["retention.ms"] for v in kept.values()] == [str(ms["dead_letters"]), str(ms["dead_letter_log"])]
    log = max(Path(stack.stack.run_dir, "logs").glob("worker-*.log"), key=lambda p: p.stat().st_mtime).read_text()
    states = [m.value for m in consume_all(stack, stack.pipeline.topics.mirror_states)]
    for leak in ("Planté", email, word):
        assert leak not in mirror and leak not in metrics and leak not in log, leak
        assert not any(leak.encode() in value for value in states), leak


def _counters(url: str) -> dict[str, Any]:
    return dict(json.loads(get(url + "/counters/")[1]))


def test_the_worker_purges_contacts_past_their_retention_by_itself(stack: Settings, tmp_path: Path) -> None:
    """A worker of its own on a Redis of its own (the purge reads every callback of its Redis), with a
    retention of 0.0001 day (8.6 s) and a purge every 2 s."""
    run = uuid.uuid4().hex[:8]
    with private_redis(tmp_path) as url:
        closed, still_open = admit(
            url,
            [
                request("lyon", f"C-{run}", "jeanne@example.org", "0612345678"),
                request("lyon", f"D-{run}", "p@x.fr", "1"),
            ],
        )
        resolve(url, closed)
        env = {
            "MIROIR_REDIS_URL": url,
            "MIROIR_PRIVACY_CONTACT_DAYS": "0.0001",
            "MIROIR_PRIVACY_PURGE_INTERVAL": "2s",
        }
        with pilot_workers(stack, Console(quiet=True), env=env) as urls:
            assert wait_for(lambda: contact_free(hash_of(url, closed)), 60), hash_of(url, closed)
            metrics = get(urls[0] + "/metrics")[1]
        assert 'miroir_purged_total{kind="contact"} 1.0' in metrics
        assert hash_of(url, still_open)["contact_phone"] == "1" and hash_of(url, closed)["verbatim"]
    log = max(Path(stack.stack.run_dir, "logs").glob("worker-*.log"), key=lambda p: p.stat().st_mtime).read_text()
    assert "jeanne" not in log  # the purge logs counts, never values


def resolve(url: str, callback: str) -> None:
    async def go() -> None:
        queue = CallbackQueue.from_url(url, quiet_days=0)
        try:
            await queue.claim_id(callback, "m1", time.time())
            await queue.resolve(callback, "reached", "rappelée", "m1", time.time(), "delay")
        finally:
            await queue.close()

    asyncio.run(go())


def hash_of(url: str, callback: str) -> dict[str, str]:
    client: Any = redis.Redis.from_url(url, decode_responses=True)
    try:
        return dict(client.hgetall(callback_key(callback)))
    finally:
        client.close()
