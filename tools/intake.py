"""An intake of its own for a test, the bench or a chaos scenario: `miroir intake serve` as a
subprocess on a free port, with MIROIR_* overrides (its topics, its limits), that can be stopped,
SIGKILLed and started again on the same port; and the token store, for one action at a time."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from config.settings import Settings
from services.intake import PATHS
from sinks.intake_tokens import TokenStore
from tools.workers import free_port

START_TIMEOUT = 60.0
T = TypeVar("T")


@dataclass
class RunningIntake:
    url: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it (again, on the same port); returns once /healthz answers (200 or 503)."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "miroir.cli", "intake", "serve", "--log-level", "warning"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if (code := self.process.poll()) is not None:
                raise RuntimeError(f"the intake exited ({code}):\n{self.log.read_text()[-3000:]}")
            try:
                httpx.get(f"{self.url}/healthz", timeout=5)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the intake did not answer within {START_TIMEOUT:.0f}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM: uvicorn lets the requests in flight get their answer first."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL: requests in flight lose their connection, answered or not."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def spawn_intake(log: Path, **env: str) -> RunningIntake:
    """`miroir intake serve` on a free port with these MIROIR_* overrides, answering."""
    port = free_port()
    full = {
        **os.environ,
        "MIROIR_INTAKE_HOST": "127.0.0.1",
        "MIROIR_INTAKE_PORT": str(port),
        "MIROIR_EXIT_WITH_PARENT": "1",
        **env,
    }
    intake = RunningIntake(f"http://127.0.0.1:{port}", full, log)
    intake.start()
    return intake


def ids_in_topic(settings: Settings, topic: str) -> Counter[str]:
    """How many times each input's id is in `topic` (survey responses or staff stories), read from
    its start to its end now."""
    from kafka import KafkaConsumer, TopicPartition

    from schemas import INPUT_SCHEMAS, codec_for

    codecs = [codec_for(INPUT_SCHEMAS[kind]) for kind in PATHS]
    consumer = KafkaConsumer(**settings.kafka.client_config(), enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        seen: Counter[str] = Counter()
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for records in consumer.poll(timeout_ms=1000).values():
                seen.update(_input_id(codecs, r.value) for r in records)
        return seen
    finally:
        consumer.close()


def _input_id(codecs: list[Any], value: bytes) -> str:
    from schemas import SerializationError

    for codec in codecs:
        try:
            record = codec.decode(value)
        except SerializationError:
            continue
        return str(record.get("response_id") or record.get("feedback_id"))
    raise ValueError(f"not an input record: {value[:10]!r}")


def with_tokens(settings: Settings, action: Callable[[TokenStore], Awaitable[T]]) -> T:
    """Run one action on the real token store."""

    async def go() -> T:
        store = TokenStore.from_url(settings.redis.dsn)
        try:
            return await action(store)
        finally:
            await store.close()

    return asyncio.run(go())
