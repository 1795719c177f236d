"""`miroir simulate --via http`: the synthetic pilot POSTed through the intake, as a survey tool would.

It creates a token of its own for the run (and forgets it after), sends small
batches in real time (one every FLUSH_EVERY seconds per kind), waits out 429s
and 503s as their Retry-After says and resends what Kafka did not confirm.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from config.settings import Settings
from services.intake import PATHS
from sinks.intake_tokens import TokenStore
from tools.demo import DemoOptions
from tools.simulate import simulate

FLUSH_EVERY = 0.25  # seconds between two POSTs of one kind
BATCH = 200
TRIES = 20
CONNECT_TRIES = 3  # refused connections in a row before giving up: no intake there


class IntakeUnavailable(RuntimeError):
    """The intake cannot take the pilot; the message says why."""


def as_json(value: Any) -> Any:
    """A record with its times as ISO 8601, as the intake takes them."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    return value


async def _token(settings: Settings, name: str, create: bool) -> str:
    store = TokenStore.from_url(settings.redis.dsn)
    try:
        if create:
            return await store.create(name, time.time())
        await store.forget(name)
        return name
    finally:
        await store.close()


def _wait(response: httpx.Response) -> float:
    try:
        return float(response.headers.get("retry-after", "1"))
    except ValueError:
        return 1.0


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def post_batch(
    client: httpx.Client,
    kind: str,
    records: list[dict[str, Any]],
    tries: int = TRIES,
    connect_tries: int = CONNECT_TRIES,
    answers: Counter[str] | None = None,
) -> tuple[list[str], list[dict[str, Any]]]:
    """POST until the intake answered for every record: (the ids accepted, [refusals]).

    A lost connection, a 429 or a 503 sends the same records again (the intake counts an id
    once); `connect_tries` refused connections in a row mean no intake is there. `answers`, when
    given, tallies what came back: each status, "transport" for a lost connection, and
    "503 without Retry-After"."""
    accepted: list[str] = []
    refused: list[dict[str, Any]] = []
    pending, last, unreachable = records, "", 0
    tally = answers if answers is not None else Counter()
    for _ in range(tries):
        try:
            response = client.post(PATHS[kind], json=pending)
        except httpx.TransportError as error:
            last = f"{type(error).__name__}: {error}"
            tally["transport"] += 1
            unreachable = unreachable + 1 if isinstance(error, httpx.ConnectError) else 0
            if unreachable >= connect_tries:
                raise IntakeUnavailable(f"no intake answers at {client.base_url} ({last}); is the stack up?") from None
            time.sleep(1)
            continue
        unreachable = 0
        tally[str(response.status_code)] += 1
        if response.status_code == 503 and "retry-after" not in response.headers:
            tally["503 without Retry-After"] += 1
        if response.status_code in (429, 503) and "items" not in _body(response):
            last = response.text
            time.sleep(_wait(response))
            continue
        if response.status_code not in (202, 207, 422, 503):  # a 503 with items: none confirmed, each to resend
            raise IntakeUnavailable(f"the intake answered {response.status_code}: {response.text[:300]}")
        items = response.json()["items"]
        accepted += [item["id"] for item in items if item["status"] == 202]
        refused += [item for item in items if item["status"] == 422]
        pending = [pending[item["index"]] for item in items if item["status"] == 503]
        if not pending:
            return accepted, refused
        time.sleep(_wait(response))
        last = "Kafka did not confirm every record"
    raise IntakeUnavailable(f"the intake at {client.base_url} did not take the records after {tries} tries ({last})")


def send_pilot(settings: Settings, options: DemoOptions, on_progress: Callable[[int], Any]) -> int:
    """POST the synthetic pilot through the intake in real time; returns how many records it accepted."""
    name = f"simulate-{os.getpid()}-{int(time.time())}"
    try:
        token = asyncio.run(_token(settings, name, create=True))
    except OSError as error:
        raise IntakeUnavailable(f"cannot create a token in Redis ({error}); is the stack up?") from error
    headers = {"Authorization": f"Bearer {token}"}
    sent, refused = 0, 0
    pending: dict[str, list[dict[str, Any]]] = {kind: [] for kind in PATHS}
    flushed = time.monotonic()
    try:
        with httpx.Client(base_url=settings.intake.url, headers=headers, timeout=60) as client:

            def flush() -> None:
                nonlocal sent, refused
                for kind, records in pending.items():
                    if records:
                        accepted, refusals = post_batch(client, kind, records)
                        sent, refused = sent + len(accepted), refused + len(refusals)
                        records.clear()

            start = time.time()
            for i, event in enumerate(simulate(options.seed, start, options.events or 10**12, options.rate)):
                pending[event.kind].append(as_json(event.record))
                if len(pending[event.kind]) >= BATCH or time.monotonic() - flushed >= FLUSH_EVERY:
                    flush()
                    flushed = time.monotonic()
                delay = start + (i + 1) / options.rate - time.time()
                if delay > 0:
                    time.sleep(delay)
                on_progress(sent)
            flush()
            on_progress(sent)
    finally:
        asyncio.run(_token(settings, name, create=False))
    if refused:
        raise IntakeUnavailable(f"the intake refused {refused} simulated records (see its answers)")
    return sent
