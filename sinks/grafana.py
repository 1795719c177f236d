"""Step alerts and escalations as Grafana annotations, through grafana-client's async API.

The pipeline only offers an annotation (never waits): a background sender
posts them with retry and backoff. When MIROIR_GRAFANA_URL is not set the
sink is off, and says so once at start-up.

Each annotation carries a tag derived from what it annotates (`miroir-id:...`);
the sink posts it only if Grafana has none with that tag, so an alert
published again after a crash (at-least-once) is not annotated twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import datetime
from typing import Any

from grafana_client import AsyncGrafanaApi

from processors.mirror_types import LABELS

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
MAX_BACKOFF = 60.0
ID_TAG = "miroir-id:"


def alert_annotation(alert: dict[str, Any]) -> dict[str, Any]:
    """The annotation of a StepAlert (the arguments of grafana-client's add_annotation)."""
    kind = alert["kind"]
    label = LABELS.get(alert["mirror_type"], {}).get("en", alert["mirror_type"])
    what = {
        "entered": f"became {label}",
        "left": f"left {LABELS.get(alert.get('previous_type') or '', {}).get('en', '')}",
        "impact_crossed": "customer impact crossed its threshold",
        "impact_recovered": "customer impact recovered",
    }[kind]
    at = alert["at"]
    return {
        "time_from": int((at.timestamp() if isinstance(at, datetime) else at / 1000) * 1000),
        "tags": [
            "miroir",
            "step-alert",
            alert["journey_id"],
            alert["step_id"],
            alert["mirror_type"],
            kind,
            f"{ID_TAG}{alert['alert_id']}",
        ],
        "text": (
            f"{alert['journey_id']} / {alert['step_id']} ({alert['window']}) {what}: customer net impact "
            f"{alert['customer_net_impact']:+.2f} over {alert['customer_n']} mentions, "
            f"{alert['staff_n']} staff mentions"
        ),
    }


def escalation_annotation(callback_id: str, site: str, at: float) -> dict[str, Any]:
    return {
        "time_from": int(at * 1000),
        "tags": ["miroir", "escalation", site, f"{ID_TAG}escalation-{callback_id}"],
        "text": f"Callback {callback_id} at {site} is overdue and was escalated",
    }


def annotation_id(annotation: dict[str, Any]) -> str:
    return next(tag for tag in annotation["tags"] if tag.startswith(ID_TAG))


class GrafanaAnnotations:
    def __init__(self, url: str, token: str | None, max_pending: int = 1000) -> None:
        self.api = AsyncGrafanaApi.from_url(url, credential=token)
        self.pending: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=max_pending)
        self.sent = self.dropped = self.failed = self.skipped = 0
        self.posted: deque[str] = deque(maxlen=10_000)  # ids posted by this process, newest last

    def offer(self, annotation: dict[str, Any]) -> None:
        """Queue an annotation without waiting; when the queue is full the oldest one goes (counted)."""
        if self.pending.full():
            self.pending.get_nowait()
            self.dropped += 1
            log.warning("Grafana annotation queue full: dropped the oldest (%d so far)", self.dropped)
        self.pending.put_nowait(annotation)

    async def already_posted(self, annotation: dict[str, Any]) -> bool:
        """Whether this process or an earlier one (before a crash) posted it already."""
        tag = annotation_id(annotation)
        return tag in self.posted or bool(await self.api.annotations.find_annotations(tags=[tag], limit=1))

    async def close(self) -> None:
        await self.api.client.s.close()

    async def run(self) -> None:
        while True:
            annotation = await self.pending.get()
            await self.post(annotation)

    async def post(self, annotation: dict[str, Any]) -> bool:
        backoff = 0.5
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                if await self.already_posted(annotation):
                    self.skipped += 1
                    return True
                await self.api.annotations.add_annotation(**annotation)
                self.sent += 1
                self.posted.append(annotation_id(annotation))
                return True
            except Exception as error:  # grafana-client raises its own and niquests' errors
                log.warning("Grafana refused an annotation (attempt %d/%d): %s", attempt, MAX_ATTEMPTS, error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
        self.failed += 1
        log.error("gave up on a Grafana annotation after %d attempts: %s", MAX_ATTEMPTS, annotation["text"])
        return False
