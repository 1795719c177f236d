"""The intake's Kafka producer: a record is accepted only once every in-sync replica has it.

aiokafka with `acks="all"` and idempotence (a retried batch is not written twice).
The producer is started on first use, and again after a failed start: an intake
whose broker is down keeps answering, 503 with Retry-After, and heals by itself
once the broker is back. Every send is bounded by `send_timeout`; a send that did
not come back in time is reported unconfirmed (the record may still land later:
clients resend with the same id, the key that makes resending safe).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from config.settings import KafkaSettings

log = logging.getLogger(__name__)

START_BACKOFF = 1.0  # after a failed start, requests within this many seconds get 503 at once
HEALTH_TIMEOUT = 5.0


class BrokerUnavailable(RuntimeError):
    """Kafka cannot be reached (or does not confirm in time); the message says what happened."""


class KafkaSender:
    def __init__(self, kafka: KafkaSettings, send_timeout: float) -> None:
        self.kafka = kafka
        self.send_timeout = send_timeout
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._next_try = 0.0
        self._last_error = ""
        self._stopping: set[asyncio.Task[None]] = set()  # retired producers, flushing what they hold

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            **self.kafka.aiokafka_config(),
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=int(self.send_timeout * 1000),
            linger_ms=2,  # a batch's records leave together; a lone record waits 2 ms at most
            client_id="miroir-intake",
        )

    async def _ready(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        async with self._lock:
            if self._producer is not None:
                return self._producer
            if time.monotonic() < self._next_try:
                raise BrokerUnavailable(self._last_error)
            producer = self._new_producer()
            try:
                await asyncio.wait_for(producer.start(), self.send_timeout)
            except (KafkaError, OSError, TimeoutError) as error:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(producer.stop(), 2)
                self._next_try = time.monotonic() + START_BACKOFF
                self._last_error = (
                    f"Kafka at {self.kafka.bootstrap_servers} cannot be reached ({error or type(error).__name__})"
                )
                log.warning("intake: %s", self._last_error)
                raise BrokerUnavailable(self._last_error) from error
            log.info("intake: producer connected to %s", self.kafka.bootstrap_servers)
            self._producer = producer
            return producer

    async def start(self) -> None:
        """Connect now if the broker answers; if not, the first request tries again."""
        with contextlib.suppress(BrokerUnavailable):
            await self._ready()

    async def _send_one(self, producer: AIOKafkaProducer, topic: str, key: str, value: bytes) -> None:
        try:
            await asyncio.wait_for(producer.send_and_wait(topic, value, key=key.encode()), self.send_timeout)
        except TimeoutError as error:
            raise BrokerUnavailable(f"Kafka did not confirm within {self.send_timeout:g}s") from error
        except KafkaError as error:
            raise BrokerUnavailable(f"Kafka refused the record ({type(error).__name__}: {error})") from error

    async def send_many(self, records: list[tuple[str, str, bytes]]) -> list[BrokerUnavailable | None]:
        """Send (topic, key, value)s together; None for each confirmed, the error for each not.
        BrokerUnavailable when the producer cannot even start (nothing was sent)."""
        producer = await self._ready()
        outcomes = await asyncio.gather(
            *(self._send_one(producer, topic, key, value) for topic, key, value in records), return_exceptions=True
        )
        errors: list[BrokerUnavailable | None] = []
        for outcome in outcomes:
            if isinstance(outcome, BrokerUnavailable) or outcome is None:
                errors.append(outcome)
            elif isinstance(outcome, Exception):
                errors.append(BrokerUnavailable(f"{type(outcome).__name__}: {outcome}"))
            else:  # a BaseException (cancellation) is not ours to swallow
                raise outcome
        if any(errors):
            await self._retire(producer)
        return errors

    async def _retire(self, producer: AIOKafkaProducer) -> None:
        """Replace a producer that failed to confirm a record with a new one (a new producer id).

        aiokafka's idempotent producer drops a batch that expired (the broker away for longer than
        its request timeout) but not the batch's sequence numbers: the broker then refuses every
        later batch as out of order, for good (the Java client bumps its epoch instead). Seen in the
        chaos run's broker stop: after the broker's return the intake answered 503 to everything.
        What the old producer still holds may land: those records were answered 503 and come again
        with their ids, which the pipeline counts once."""
        async with self._lock:
            if self._producer is not producer:
                return  # another request retired it already
            self._producer = None
        log.warning("intake: a record was not confirmed; the next request starts a new producer")
        task = asyncio.create_task(self._stop(producer))
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def _stop(self, producer: AIOKafkaProducer) -> None:
        try:
            await asyncio.wait_for(producer.stop(), self.send_timeout)
        except (KafkaError, OSError, TimeoutError) as error:
            log.warning("intake: producer did not stop cleanly: %s", error)

    async def problem(self, topics: list[str]) -> str | None:
        """None when the broker answers and has the topics, else what is wrong."""
        try:
            producer = await self._ready()
            metadata: Any = await asyncio.wait_for(producer.client.fetch_all_metadata(), HEALTH_TIMEOUT)
        except BrokerUnavailable as error:
            return str(error)
        except (KafkaError, OSError, TimeoutError) as error:
            return f"Kafka at {self.kafka.bootstrap_servers} does not answer ({type(error).__name__}: {error})"
        missing = [topic for topic in topics if not metadata.partitions_for_topic(topic)]
        return f"topics missing on Kafka: {', '.join(missing)} (miroir topics create)" if missing else None

    async def close(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await self._stop(producer)
        await asyncio.gather(*self._stopping)
