"""The worker's side of privacy: it refuses what is about an erased person, forgets their evidence,
and purges what is past its retention (processors/privacy.py says what; sinks/privacy.py does it in
Redis).

- Erasures: the worker reads new ones from Redis every `erasures_interval` (5 s) into a set held in
  memory; an input about an erased subject is counted `erased` and nothing else (no window, no
  evidence, no callback, no dead letter: its bytes would carry the person back). Each new erasure
  goes to every journey as a `forget` delta, so update_mirror drops the person's evidence in the
  journey's own partition. The callback sink asks Redis too, per batch (a request in flight when
  the erasure happened must not admit the person again).
- Access requests: `/privacy/evidence/?keys=...` (the page's token) lists the evidence this worker
  keeps about those subject keys; `miroir privacy export` asks each worker it is given.
- Retention: once a day (`purge_interval`: an interval after the last one any worker of this Redis
  ran, so restarts neither skip nor repeat it; a minute after start where none ran yet), closed
  callbacks lose their contact details after `contact_days` and are anonymised after `case_days`.
  Idempotent: several workers may run it. Counted in `miroir_purged_total{kind}` and one log line
  of counts, never of values.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any

from faust import web

from config.settings import settings
from processors.config import pipeline_config
from processors.pipeline import PipelineConfig
from processors.privacy import retention, subjects_of
from sinks.callback_queue import REDIS_DOWN
from sinks.privacy import PrivacyStore
from streams.access import requires_token
from streams.app import app
from streams.metrics import PURGED
from streams.records import JourneyDelta
from streams.tables import journey_to_tally
from streams.topics import journey_delta_topic

log = logging.getLogger(__name__)
ERASED: set[str] = set()  # subject keys erased, as of the last read
_config: PipelineConfig | None = None
_store: PrivacyStore | None = None


def store() -> PrivacyStore:
    global _store
    if _store is None:
        _store = PrivacyStore.from_url(settings.redis.dsn)
    return _store


def worker_config() -> PipelineConfig:
    """The pipeline's configuration with the subject hashes' secret once it is known: at once with
    MIROIR_PRIVACY_SECRET, else when Redis gives it (`learn_secret`). The analysis never waits for
    Redis: evidence taken by a worker that started while Redis was down, before it answered, carries
    no subject keys (an erasure cannot find it; set the secret to close that window)."""
    global _config
    if _config is None and settings.privacy.secret:
        _config = replace(pipeline_config(), secret=settings.privacy.secret.get_secret_value().encode())
    return _config or pipeline_config()


@app.task
async def learn_secret() -> None:
    global _config
    backoff = 0.5
    while _config is None:
        try:
            secret = await store().secret(settings.privacy)
        except REDIS_DOWN as error:
            log.warning("waiting for Redis for the privacy hashes' secret (%s); retrying in %.1fs", error, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
            continue
        _config = replace(pipeline_config(), secret=secret)


def is_erased(record: dict[str, Any], config: PipelineConfig) -> bool:
    """Only hashed while someone was erased: the common case costs one set lookup."""
    return bool(ERASED) and bool(subjects_of(record, config.secret) & ERASED)


async def erased_callbacks(requests: list[dict[str, Any]]) -> set[str]:
    """The callback requests about an erased person (asked of Redis, not of this worker's set, a
    few seconds behind): the callback sink's screen, inside its admission (sinks/callback_queue.py)."""
    secret = await store().secret(settings.privacy)  # admitting needs Redis anyway
    subjects = [subjects_of(r, secret) for r in requests]
    erased = await store().erased_among(set().union(*subjects))
    return {r["callback_id"] for r, keys in zip(requests, subjects, strict=True) if keys & erased}


@app.task
async def follow_erasures() -> None:
    last = "0"  # from the start: evidence kept by a worker that was down meanwhile is forgotten too
    while True:
        try:
            last, keys, more = await store().erasures_after(last)
        except REDIS_DOWN as error:
            log.warning("erasures: cannot read them, Redis is down (%s); trying again", error)
            keys, more = set(), False
        if keys - ERASED:
            ERASED.update(keys)
            for journey_id in pipeline_config().taxonomy.journeys:
                await journey_delta_topic.send(key=journey_id, value=JourneyDelta.of_forget(sorted(keys)))
            log.info("erasures: %d subjects erased so far; their evidence is being forgotten", len(ERASED))
        if not more:
            await asyncio.sleep(settings.privacy.erasures_interval)


@app.task
async def purge_past_retention() -> None:
    while True:
        await asyncio.sleep(await _until_next_purge())
        try:
            await purge_once(time.time())
        except REDIS_DOWN as error:
            log.warning("purge: postponed, Redis is down (%s)", error)
            await asyncio.sleep(60)


async def _until_next_purge() -> float:
    try:
        last = await store().last_purge()
    except REDIS_DOWN:
        return 60.0
    interval = settings.privacy.purge_interval
    return max(0.0, last + interval - time.time()) if last else min(60.0, interval)


async def purge_once(now: float) -> dict[str, int]:
    started = time.monotonic()
    counts = await store().purge(retention(settings.privacy), now)
    for kind in ("contact", "case"):
        PURGED.labels(kind).inc(counts.get(kind, 0))
    log.info(
        "purge: done in %.1fs: %d callbacks lost their contact details, %d anonymised",
        time.monotonic() - started,
        counts.get("contact", 0),
        counts.get("case", 0),
    )
    return dict(counts)


def evidence_about(keys: set[str]) -> list[dict[str, str]]:
    """The evidence this worker keeps about any of `keys` (an access request: miroir privacy export)."""
    found = []
    for journey_id, data in list(journey_to_tally.items()):
        for where, entries in data.get("evidence", {}).items():
            for entry in entries:
                if keys.intersection(entry[2:]):
                    side, step = where.split("|", 1)
                    found.append(
                        {"journey_id": journey_id, "side": side, "step_id": step, "id": entry[0], "text": entry[1]}
                    )
    return found


@app.page("/privacy/evidence/")
@requires_token
async def evidence_view(self: web.View, request: web.Request) -> web.Response:
    keys = {k for k in request.query.get("keys", "").split(",") if k}
    return self.json({"evidence": evidence_about(keys) if keys else []})
