"""`miroir stack`: starts, reports, refuses and stops the real services."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from infra.broker import start_kafka
from infra.processes import Paths, StackError, alive, port_answers
from infra.stack import down, start_redis, status, up


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def private_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for a second stack on free ports, in its own run folder (jars shared)."""
    monkeypatch.setenv("MIROIR_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("MIROIR_KAFKA_LIBS_DIR", str(Path(".run/kafka-libs").resolve()))
    monkeypatch.setenv("MIROIR_KAFKA_BOOTSTRAP_SERVERS", f"localhost:{free_port()}")
    monkeypatch.setenv("MIROIR_KAFKA_CONTROLLER_PORT", str(free_port()))
    monkeypatch.setenv("MIROIR_REDIS_URL", f"redis://localhost:{free_port()}/0")
    monkeypatch.setenv("MIROIR_INTAKE_PORT", str(free_port()))
    monkeypatch.setenv("MIROIR_MANAGERS_PORT", str(free_port()))
    settings = Settings()
    yield settings
    down(settings, echo=lambda _: None)


@pytest.mark.integration
def test_up_is_idempotent_and_down_leaves_nothing_running(private_stack: Settings) -> None:
    said: list[str] = []
    up(private_stack, echo=said.append)
    services = status(private_stack)
    names = ["kafka", "redis", "intake", "managers"]
    assert [(s.name, s.state) for s in services] == [(name, "running") for name in names]
    pids = [s.pid for s in services]

    said.clear()
    up(private_stack, echo=said.append)
    for service in names:
        assert f"{service}: already running" in " ".join(said)
    assert [s.pid for s in status(private_stack)] == pids

    down(private_stack, echo=said.append)
    assert [(s.state, s.pid) for s in status(private_stack)] == [("stopped", None)] * 4
    for pid in pids:
        assert pid is not None and not alive(pid)
    assert not port_answers(private_stack.kafka.first_server[1])
    assert not port_answers(private_stack.redis.port)
    assert not port_answers(private_stack.intake.port)
    assert not port_answers(private_stack.managers.port)


def test_a_taken_intake_port_is_a_clear_error(private_stack: Settings) -> None:
    from infra.stack import start_intake

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", private_stack.intake.port))
        squatter.listen()
        with pytest.raises(StackError, match="MIROIR_INTAKE_PORT"):
            start_intake(private_stack, Paths(private_stack), echo=lambda _: None)


def test_a_taken_managers_port_is_a_clear_error(private_stack: Settings) -> None:
    from infra.stack import start_managers

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", private_stack.managers.port))
        squatter.listen()
        with pytest.raises(StackError, match="MIROIR_MANAGERS_PORT"):
            start_managers(private_stack, Paths(private_stack), echo=lambda _: None)


def test_a_port_taken_by_someone_else_is_a_clear_error(private_stack: Settings) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", private_stack.redis.port))
        squatter.listen()
        with pytest.raises(StackError, match=f"port {private_stack.redis.port} is already in use"):
            start_redis(private_stack, Paths(private_stack), echo=lambda _: None)


def test_a_taken_kafka_port_is_refused_before_starting_java(private_stack: Settings) -> None:
    port = private_stack.kafka.first_server[1]
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(StackError, match="MIROIR_KAFKA_BOOTSTRAP_SERVERS"):
            start_kafka(private_stack, Paths(private_stack), echo=lambda _: None)


def test_a_remote_broker_is_not_started_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIROIR_KAFKA_BOOTSTRAP_SERVERS", "kafka.example.org:9092")
    settings = Settings()
    with pytest.raises(StackError, match=r"only\s+runs a broker on localhost"):
        start_kafka(settings, Paths(settings), echo=lambda _: None)


def test_missing_java_is_named(monkeypatch: pytest.MonkeyPatch, private_stack: Settings) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(StackError, match="Java is not installed"):
        start_kafka(private_stack, Paths(private_stack), echo=lambda _: None)


@pytest.mark.integration
def test_redis_requirepass_from_the_url(private_stack: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import redis

    from infra.stack import redis_answers

    port = private_stack.redis.port
    monkeypatch.setenv("MIROIR_REDIS_URL", f"redis://:s3cret-pass@localhost:{port}/0")
    settings = Settings()
    start_redis(settings, Paths(settings), echo=lambda _: None)
    assert redis_answers(settings)
    anonymous = redis.Redis(port=port)
    try:
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
    finally:
        anonymous.close()
    assert (Paths(settings).redis / "redis.conf").stat().st_mode & 0o077 == 0  # the password is not world-readable

    # The managers' accounts store reaches Redis through the same URL, password included.
    import asyncio

    from processors.access import User
    from sinks.accounts import AccountStore

    async def add_and_read(url: str) -> User | None:
        store = AccountStore.from_url(url)
        try:
            await store.add_user(User("a.admin", "a@example.org", "admin"), "long enough password", time.time())
            return await store.user("a.admin")
        finally:
            await store.close()

    with pytest.raises(redis.AuthenticationError):
        asyncio.run(add_and_read(f"redis://localhost:{port}/0"))
    assert asyncio.run(add_and_read(settings.redis.dsn)) == User("a.admin", "a@example.org", "admin")


@pytest.mark.integration
def test_kafka_sasl_settings_work_for_every_client_and_a_wrong_password_is_refused(
    private_stack: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With SASL_PLAINTEXT the local broker requires the configured user; the admin, the producer,
    the faust worker and the callback sink's aiokafka consumer all get in with the same settings."""
    import redis
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError
    from rich.console import Console

    from sinks.callback_queue import callback_key
    from tools.demo import DemoOptions, stream_pilot, wait_until_processed
    from tools.workers import pilot_workers

    sasl = {
        "MIROIR_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "MIROIR_KAFKA_SASL_MECHANISM": "PLAIN",
        "MIROIR_KAFKA_SASL_USERNAME": "miroir",
        "MIROIR_KAFKA_SASL_PASSWORD": "s3cret-pw",
    }
    for name, value in sasl.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    up(settings, echo=lambda _: None)  # kafka_answers and the topics already go through SASL
    assert "user_miroir=" in (Paths(settings).kafka / "server.properties").read_text()

    with pytest.raises(KafkaError):
        KafkaAdminClient(**{**settings.kafka.client_config(), "sasl_plain_password": "wrong"}, request_timeout_ms=5000)

    queue = redis.Redis.from_url(settings.redis.dsn, decode_responses=True)
    with pilot_workers(settings, Console(quiet=True), env=sasl) as urls:
        sent = stream_pilot(settings, DemoOptions(60, 3, 500.0, 0.0, True, None), on_progress=lambda n: None)
        counters = wait_until_processed(urls[0], sent, timeout=120)["counters"]
        assert counters["in"] == counters["processed"] == sent
        deadline = time.monotonic() + 30  # the callback sink reads through aiokafka with the same settings
        while not queue.keys(callback_key("cb-*")) and time.monotonic() < deadline:
            time.sleep(0.5)
    assert queue.keys(callback_key("cb-*"))
    queue.close()
