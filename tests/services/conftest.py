"""Real intakes for the tests (tools/intake.py: `miroir intake serve` as a subprocess on a free port), with tokens."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from config.settings import Settings
from tools.intake import RunningIntake, spawn_intake, with_tokens

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
    running = spawn_intake(
        tmp_path_factory.mktemp("intake") / "intake.log",
        MIROIR_INTAKE_MAX_BODY_BYTES="65536",
        MIROIR_INTAKE_RATE_PER_TOKEN="1",
        MIROIR_INTAKE_RATE_BURST="10",
        **intake_topics,
    )
    yield running
    running.stop()
