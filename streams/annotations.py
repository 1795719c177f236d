"""Step alerts (and escalations) to Grafana as annotations, when MIROIR_GRAFANA_URL is set."""

from __future__ import annotations

import logging
from functools import cache

from config.settings import settings
from sinks.grafana import GrafanaAnnotations, alert_annotation
from streams.app import app
from streams.topics import step_alert_topic

log = logging.getLogger(__name__)


@cache
def grafana_annotations() -> GrafanaAnnotations | None:
    if not settings.grafana.url:
        return None
    token = settings.grafana.token.get_secret_value() if settings.grafana.token else None
    return GrafanaAnnotations(settings.grafana.url, token)


@app.task
async def send_annotations() -> None:
    sink = grafana_annotations()
    if sink is None:
        log.warning("Grafana annotations are off: MIROIR_GRAFANA_URL is not set")
        return
    log.warning("Grafana annotations are on: step alerts and escalations go to %s", settings.grafana.url)
    await sink.run()


@app.agent(step_alert_topic)
async def annotate_step_alerts(stream):
    async for alert in stream:
        sink = grafana_annotations()
        if sink is not None:
            sink.offer(alert_annotation(alert))
