"""The annotation sink's requests have the Grafana HTTP API's documented shape (POST /api/annotations).

No Grafana server runs in CI: a small HTTP server on loopback records what the sink sends.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from sinks.grafana import GrafanaAnnotations, alert_annotation, escalation_annotation
from tests.examples import EXAMPLES

DOCUMENTED_FIELDS = {"dashboardUID", "dashboardId", "panelId", "time", "timeEnd", "tags", "text"}


async def fake_grafana(failures: int) -> tuple[web.AppRunner, str, list[dict[str, Any]]]:
    """Records every POST; answers GET /api/annotations?tags=... from what it accepted."""
    seen: list[dict[str, Any]] = []
    accepted: list[dict[str, Any]] = []

    async def find(request: web.Request) -> web.Response:
        wanted = set(request.query.getall("tags", []))
        return web.json_response([a for a in accepted if wanted <= set(a["tags"])])

    async def annotations(request: web.Request) -> web.Response:
        seen.append(
            {
                "method": request.method,
                "path": request.path,
                "auth": request.headers.get("Authorization"),
                "json": await request.json(),
            }
        )
        if len(seen) <= failures:
            return web.json_response({"message": "unavailable"}, status=503)
        accepted.append(seen[-1]["json"])
        return web.json_response({"id": len(seen), "message": "Annotation added"})

    server = web.Application()
    server.router.add_post("/api/annotations", annotations)
    server.router.add_get("/api/annotations", find)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}", seen


async def test_a_step_alert_is_posted_as_a_documented_annotation_with_retry() -> None:
    runner, url, seen = await fake_grafana(failures=2)
    try:
        sink = GrafanaAnnotations(url, token="glsa_secret")
        alert = EXAMPLES["StepAlert"]
        assert await asyncio.wait_for(sink.post(alert_annotation(alert)), timeout=30)
        await sink.close()
    finally:
        await runner.cleanup()
    assert len(seen) == 3 and sink.sent == 1  # two refusals, then accepted
    request = seen[-1]
    assert (request["method"], request["path"], request["auth"]) == (
        "POST",
        "/api/annotations",
        "Bearer glsa_secret",
    )
    body = {k: v for k, v in request["json"].items() if v is not None}
    assert set(body) <= DOCUMENTED_FIELDS and {"time", "tags", "text"} <= set(body)
    assert body["time"] == int(alert["at"].timestamp() * 1000)
    assert body["tags"] == [
        "miroir",
        "step-alert",
        "home_delivery",
        "pickup",
        "dead_end",
        "entered",
        f"miroir-id:{alert['alert_id']}",
    ]
    assert "home_delivery / pickup (live) became dead end" in body["text"]


async def test_offering_never_waits_and_a_full_queue_drops_the_oldest() -> None:
    sink = GrafanaAnnotations("http://127.0.0.1:9", token=None, max_pending=2)
    for i in range(3):
        sink.offer(escalation_annotation(f"cb-{i}", "lyon", 1_790_000_000.0))
    assert sink.dropped == 1 and sink.pending.qsize() == 2
    assert (await sink.pending.get())["text"].startswith("Callback cb-1")


async def test_an_alert_published_again_is_annotated_once_even_by_a_restarted_worker() -> None:
    runner, url, seen = await fake_grafana(failures=0)
    annotation = alert_annotation(EXAMPLES["StepAlert"])
    try:
        first = GrafanaAnnotations(url, token=None)
        assert await first.post(annotation) and await first.post(annotation)  # redelivered in the same process
        await first.close()
        restarted = GrafanaAnnotations(url, token=None)  # after a crash: asks Grafana
        assert await restarted.post(annotation)
        await restarted.close()
    finally:
        await runner.cleanup()
    assert len(seen) == 1 and (first.sent, first.skipped, restarted.sent, restarted.skipped) == (1, 1, 0, 1)
