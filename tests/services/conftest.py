"""Real intakes for the tests: `miroir intake serve` as a subprocess on a free port, with a token."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from config.settings import Settings
from sinks.intake_tokens import TokenStore
from tools.workers import free_port

START_TIMEOUT = 60.0
T = TypeVar("T")


@dataclass
class RunningIntake:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_intake(log: Path, **env: str) -> RunningIntake:
    """`miroir intake serve` with these MIROIR_* overrides; returns once /healthz answers (200 or 503)."""
    port = free_port()
    full = {
        **os.environ,
        "MIROIR_INTAKE_HOST": "127.0.0.1",
        "MIROIR_INTAKE_PORT": str(port),
        "MIROIR_EXIT_WITH_PARENT": "1",
        **env,
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "miroir.cli", "intake", "serve", "--log-level", "warning"],
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    intake = RunningIntake(f"http://127.0.0.1:{port}", full, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the intake exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            httpx.get(f"{intake.url}/healthz", timeout=5)
            return intake
        except httpx.TransportError:
            time.sleep(0.3)
    intake.stop()
    raise RuntimeError(f"the intake did not answer within {START_TIMEOUT:.0f}s:\n{log.read_text()[-3000:]}")


def with_tokens(settings: Settings, action: Callable[[TokenStore], Awaitable[T]]) -> T:
    """Run one action on the real token store."""

    async def go() -> T:
        store = TokenStore.from_url(settings.redis.dsn)
        try:
            return await action(store)
        finally:
            await store.close()

    return asyncio.run(go())


TokenFactory = Callable[[], tuple[str, str]]


@pytest.fixture
def new_token(stack: Settings) -> Iterator[TokenFactory]:
    """Makes tokens (name, token) in the real Redis; forgets them after the test."""
    names: list[str] = []

    def make() -> tuple[str, str]:
        name = f"test-{uuid.uuid4().hex[:10]}"
        names.append(name)
        return name, with_tokens(stack, lambda store: store.create(name, time.time()))

    yield make
    for name in names:
        with_tokens(stack, lambda store, name=name: store.forget(name))  # type: ignore[misc]


@pytest.fixture(scope="module")
def intake_topics(stack: Settings) -> dict[str, str]:
    """Input topics of this module's own (their counts are exact), as MIROIR_* overrides."""
    from infra.topics import ensure_topics

    run = uuid.uuid4().hex[:10]
    env = {"MIROIR_SURVEY_TOPIC": f"test-{run}-survey", "MIROIR_STAFF_TOPIC": f"test-{run}-staff"}
    ensure_topics(stack, list(env.values()), partitions=2)
    return env


@pytest.fixture(scope="module")
def intake(
    stack: Settings, intake_topics: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningIntake]:
    """One real intake for the module, on its own topics, with a small body limit and a low rate
    (1 request/s, bursts of 10: each test has its own token, so its own bucket)."""
    running = start_intake(
        tmp_path_factory.mktemp("intake") / "intake.log",
        MIROIR_INTAKE_MAX_BODY_BYTES="65536",
        MIROIR_INTAKE_RATE_PER_TOKEN="1",
        MIROIR_INTAKE_RATE_BURST="10",
        **intake_topics,
    )
    yield running
    running.stop()
