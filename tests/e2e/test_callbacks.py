"""Callbacks end to end: real Kafka, a real worker, real Redis."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from rich.console import Console
from typer.testing import CliRunner

from config.settings import Settings
from miroir.cli import app as cli
from processors.access import User
from schemas import codec_for
from sinks.callback_queue import site_stream
from tests.integration.kafka_io import consume_all
from tools.managers import spawn_managers, with_accounts
from tools.producer import RecordProducer
from tools.readout import fetch
from tools.workers import pilot_worker


def dissatisfied(site: str, n: int) -> list[dict[str, Any]]:
    return [
        {
            "response_id": f"{site}-r{i}",
            "customer_ref": f"{site}-c{i}",
            "journey_id": "home_delivery",
            "step_id": "delivery",
            "score": 2,
            "score_scale": "NPS",
            "site": site,
            "callback_consent": True,
            "verbatim": "Livreur en retard de quatre heures, très déçu.",
            "event_time": datetime.now(UTC),
            "contact": {"name": None, "email": None, "phone": "+33611111111"},
        }
        for i in range(n)
    ]


def stream_ids(url: str, site: str) -> list[str]:
    client: Any = redis.Redis.from_url(url, decode_responses=True)
    try:
        return [fields["callback_id"] for _, fields in client.xrange(site_stream(site))]
    finally:
        client.close()


def wait_for(check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    return check()


def produce(stack: Settings, records: list[dict[str, Any]]) -> None:
    with RecordProducer(stack) as producer:
        for record in records:
            producer.send("survey", record)


def manager_of(stack: Settings, site: str) -> tuple[str, str]:
    """A new manager of `site` and their personal API token: (name, token)."""
    name = f"m.dupont-{uuid.uuid4().hex[:6]}"
    user = User(name, "m.dupont@example.org", "manager", frozenset({site}))

    async def add(accounts: Any, credentials: Any) -> str:
        await accounts.add_user(user, "a long enough password", time.time())
        return str(await credentials.create_token(name, "cli", time.time()))

    return name, with_accounts(stack, add)


def test_one_callback_per_dissatisfied_response_even_on_replay_then_the_loop_closes(
    stack: Settings, tmp_path: Path
) -> None:
    site = f"site-{uuid.uuid4().hex[:8]}"
    responses = dissatisfied(site, 3)
    happy = {
        **responses[0],
        "response_id": f"{site}-happy",
        "customer_ref": f"{site}-h",
        "score": 10,
        "verbatim": "Livraison parfaite, merci.",
    }
    with pilot_worker(stack, Console(quiet=True)) as url:
        produce(stack, [*responses, happy])
        expected = [f"cb-{r['response_id']}" for r in responses]
        assert wait_for(lambda: sorted(stream_ids(stack.redis.dsn, site)) == sorted(expected))

        produce(stack, responses)  # a replay of the same events
        time.sleep(4)
        assert sorted(stream_ids(stack.redis.dsn, site)) == sorted(expected)

        # The manager's CLI goes through the managers' app with their personal token.
        manager, token = manager_of(stack, site)
        managers = spawn_managers(tmp_path / "managers.log")
        runner = CliRunner(env={"MIROIR_API_TOKEN": token, "MIROIR_MANAGERS_PUBLIC_URL": managers.url})
        try:
            claimed = runner.invoke(cli, ["callbacks", "claim", "--site", site])
            assert claimed.exit_code == 0 and "+33611111111" in claimed.output, claimed.output
            first = expected[0] if expected[0] in claimed.output else next(e for e in expected if e in claimed.output)
            resolved = runner.invoke(
                cli,
                ["callbacks", "resolve", first, "--outcome", "reached", "--note", "rappel", "--root-cause", "other"],
            )
            assert resolved.exit_code == 0, resolved.output
        finally:
            managers.stop()

        outcomes = [
            codec_for("CallbackOutcome").decode(m.value)
            for m in consume_all(stack, stack.pipeline.topics.callback_outcomes)
        ]
        ours = [o for o in outcomes if o["callback_id"] == first]
        assert len(ours) == 1 and ours[0]["manager"] == manager and ours[0]["within_sla"]

        def figures() -> dict[str, Any] | None:
            found = fetch(url, "/mirror/")["callbacks"]["by_site_step"].get(f"{site}|delivery")
            return found if found and found.get("resolved") == 1 else None

        loop = wait_for(figures)
        assert loop is not None
        assert loop["within_sla_pct"] == 100.0 and loop["open"] == 2 and loop["overdue"] == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[str, Any, Any]]:
    """A Redis of this test's own (append-only), with start and stop."""
    port = free_port()
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        processes.append(
            subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(port),
                    "--dir",
                    str(tmp_path),
                    "--appendonly",
                    "yes",
                    "--save",
                    "",
                ],
                stdout=subprocess.DEVNULL,
            )
        )
        client = redis.Redis(port=port)
        assert wait_for(lambda: _pings(client), timeout=10)
        client.close()

    def stop() -> None:
        processes[-1].terminate()
        processes[-1].wait(timeout=10)

    start()
    yield f"redis://localhost:{port}/0", start, stop
    if processes[-1].poll() is None:
        stop()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_no_callback_is_lost_while_redis_is_down(
    stack: Settings, private_redis: tuple[str, Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, start_redis, stop_redis = private_redis
    monkeypatch.setenv("MIROIR_REDIS_URL", url)
    site = f"site-{uuid.uuid4().hex[:8]}"
    before, during = dissatisfied(site, 2), dissatisfied(site, 12)[2:]
    with pilot_worker(stack, Console(quiet=True)):
        produce(stack, before)
        assert wait_for(lambda: len(stream_ids(url, site)) == 2)
        stop_redis()
        produce(stack, during)
        time.sleep(6)  # the sink retries with backoff meanwhile
        start_redis()
        expected = sorted(f"cb-{r['response_id']}" for r in before + during)
        assert wait_for(lambda: sorted(stream_ids(url, site)) == expected, timeout=90)
