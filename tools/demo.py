"""The live pilot demo: the stack, a fresh worker, a synthetic pilot streaming in, the mirror live.

Each demo is a fresh pilot: its worker gets its own app id (so its own consumer
group, tables and windows) and reads only what is produced after it joined.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from config.settings import Settings
from processors.config import pipeline_config
from schemas import codec_for
from tools.managers import demo_managers
from tools.producer import RecordProducer
from tools.readout import WorkerUnavailable, fetch, mirror_tables, summary, totals_line
from tools.simulate import SITES, simulate
from tools.workers import pilot_worker


@dataclass
class DemoOptions:
    events: int  # 0: endless
    seed: int
    rate: float
    invalid_share: float
    exit_when_done: bool
    summary_path: Path | None
    timeout: float = 300.0


def invalid_inputs(rng: random.Random, i: int, at: Any) -> bytes:
    """Bad survey responses a real pilot gets; each must end in dead-letters with its reason."""
    codec = codec_for("SurveyResponse")
    good = {
        "response_id": f"sim-bad-{i}",
        "customer_ref": "cust-x",
        "journey_id": "home_delivery",
        "score": 5,
        "score_scale": "NPS",
        "verbatim": "Livraison correcte.",
        "site": "lyon-part-dieu",
        "event_time": at,
    }
    choice = rng.randrange(4)
    if choice == 0:
        return b"not avro at all"
    if choice == 1:
        return codec.encode({**good, "score": 42})
    if choice == 2:
        return codec.encode({**good, "journey_id": "moon_trip"})
    return codec.encode({**good, "verbatim": " "})


def stream_pilot(settings: Settings, options: DemoOptions, on_progress: Any) -> int:
    """Produce the synthetic pilot in real time; returns how many messages were sent."""
    rng = random.Random(options.seed + 1)
    start = time.time()
    count = options.events or 10**12
    with RecordProducer(settings) as producer:
        for i, event in enumerate(simulate(options.seed, start, count, options.rate)):
            if rng.random() < options.invalid_share:
                producer.send_raw(producer.topics.survey_responses, invalid_inputs(rng, i, event.record["event_time"]))
            else:
                producer.send(event.kind, event.record)
            delay = start + (i + 1) / options.rate - time.time()
            if delay > 0:
                time.sleep(delay)
            on_progress(producer.sent)
        return producer.sent


def wait_until_processed(url: str, sent: int, timeout: float) -> dict[str, Any]:
    """Until the worker has taken every message and its mirror stopped moving."""
    deadline = time.monotonic() + timeout
    previous: list[dict[str, Any]] | None = None
    while time.monotonic() < deadline:
        counters = fetch(url, "/counters/")
        mirror = fetch(url, "/mirror/")
        settled = [{k: v for k, v in s.items() if k != "computed_at"} for s in mirror["states"]]
        if counters["in"] >= sent and settled == previous:
            return mirror
        previous = settled if counters["in"] >= sent else None
        time.sleep(1.5)
    raise RuntimeError(f"the worker did not take all {sent} messages within {timeout:.0f}s")


def demo_staff_link(settings: Settings, site: str) -> str:
    """The staff questionnaire's link for the demo's site (each demo's replaces the last one's)."""
    from services.intake.staff import PAGE
    from sinks.intake_tokens import TokenStore

    async def renew() -> str:
        store = TokenStore.from_url(settings.redis.dsn)
        try:
            await store.forget_staff_link("demo")
            return await store.create_staff_link(site, None, time.time(), name="demo")
        finally:
            await store.close()

    return f"{settings.intake.url}{PAGE}?t={asyncio.run(renew())}"


def _exit_on_sigterm(*_: object) -> None:
    raise KeyboardInterrupt  # so the pilot worker is stopped on the way out


def run_demo(settings: Settings, options: DemoOptions, console: Console) -> dict[str, Any] | None:
    from infra.stack import up

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    up(settings, echo=console.print)
    taxonomy = pipeline_config().taxonomy
    with pilot_worker(settings, console) as url:
        intake = settings.intake.url
        console.print(
            f"demo: the intake takes answers of your own at {intake}/v1/survey-responses and "
            f"{intake}/v1/staff-feedback (a token: `miroir intake token create --name me`; API docs at {intake}/docs)"
        )
        for name, password in demo_managers(settings, SITES):
            console.print(
                f"demo: managers' inbox {settings.managers.url}: sign in as {name} / {password}", soft_wrap=True
            )
        staff_page = demo_staff_link(settings, SITES[0])
        console.print(f"demo: the staff questionnaire of {SITES[0]}, for a phone: {staff_page}", soft_wrap=True)
        if options.exit_when_done:
            sent = stream_pilot(settings, options, on_progress=lambda n: None)
            console.print(f"demo: sent {sent} messages, waiting for the worker...")
            mirror = wait_until_processed(url, sent, options.timeout)
            result = summary(mirror["states"], mirror["counters"])
            result["totals"]["sent"] = sent
            console.print(mirror_tables(mirror["states"], taxonomy))
            _print_totals(console, result["totals"])
            if options.summary_path:
                options.summary_path.write_text(json.dumps(result, indent=2, ensure_ascii=False))
                console.print(f"demo: summary written to {options.summary_path}")
            return result
        _live(settings, options, console, url, taxonomy)
        return None


def _print_totals(console: Console, totals: dict[str, Any]) -> None:
    console.print(totals_line(totals))


def _live(settings: Settings, options: DemoOptions, console: Console, url: str, taxonomy: Any) -> None:
    import threading

    sent = [0]
    producer = threading.Thread(
        target=stream_pilot, args=(settings, options, lambda n: sent.__setitem__(0, n)), daemon=True
    )
    producer.start()
    console.print("demo: streaming the pilot; Ctrl-C to stop")
    with Live(console=console, refresh_per_second=1, screen=False) as live:
        try:
            while producer.is_alive() or options.events == 0:
                try:
                    mirror = fetch(url, "/mirror/")
                    counters = mirror["counters"]
                    header = Text(f"sent {sent[0]}   {totals_line(counters)}   live page: {url}/")
                    live.update(Group(header, mirror_tables(mirror["states"], taxonomy)))
                except WorkerUnavailable as error:
                    live.update(Text(str(error)))
                time.sleep(1)
        except KeyboardInterrupt:
            console.print("demo: stopping")
