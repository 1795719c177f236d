"""Shared fixtures. Integration tests run against the real local stack (Kafka + Redis)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from config.settings import Settings


@pytest.fixture(scope="session")
def stack() -> Iterator[Settings]:
    """The real Kafka and Redis: reuses a running stack, else starts one and stops it after.
    (The intake's tests start intakes of their own: a stack without one is still reused.)"""
    from infra.stack import down, status, up

    settings = Settings()
    already_up = all(service.answering for service in status(settings) if service.name in ("kafka", "redis"))
    if not already_up:
        up(settings)
    yield settings
    if not already_up:
        down(settings)


@pytest.fixture
def fresh_topic(stack: Settings) -> str:
    """A new one-partition topic of its own for this test."""
    from infra.topics import ensure_topics

    name = f"test-{uuid.uuid4().hex[:12]}"
    ensure_topics(stack, [name], partitions=1)
    return name
