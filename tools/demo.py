"""The live pilot demo: the stack, a fresh worker, a synthetic pilot streaming in, the mirror live.

Each demo is a fresh pilot: its worker gets its own app id (so its own consumer
group, tables and windows) and reads only what is produced after it joined.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from config.settings import Settings
from processors.config import pipeline_config
from schemas import codec_for
from tools.producer import RecordProducer
from tools.readout import WorkerUnavailable, fetch, mirror_tables, summary
from tools.simulate import simulate


@dataclass
class DemoOptions:
    events: int  # 0: endless
    seed: int
    rate: float
    invalid_share: float
    exit_when_done: bool
    summary_path: Path | None
    timeout: float = 300.0


def free_port(preferred: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])


@contextmanager
def pilot_workers(
    settings: Settings, console: Console, count: int = 1, env: dict[str, str] | None = None
) -> Iterator[list[str]]:
    """Start `count` workers of one fresh pilot (one app id); yield their URLs once together they
    own every input partition. `env` overrides settings (e.g. MIROIR_SURVEY_TOPIC)."""
    app_id = f"{settings.pipeline.app_id}-pilot-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid() % 1000}"
    pilot_env = {
        **os.environ,
        "MIROIR_APP_ID": app_id,
        "MIROIR_AUTO_OFFSET_RESET": "latest",
        "MIROIR_SNAPSHOT_INTERVAL": "10s",
        "MIROIR_EXIT_WITH_PARENT": "1",
        **(env or {}),
    }
    log_path = settings.stack.run_dir / "logs" / f"worker-{app_id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    console.print(f"worker: starting pilot {app_id} ({count} worker(s), log {log_path})")
    workers, urls = [], []
    with log_path.open("ab") as log:
        for i in range(count):
            port = free_port(settings.pipeline.web_port + i)
            urls.append(f"http://localhost:{port}")
            worker_env = {
                **pilot_env,
                "MIROIR_WEB_PORT": str(port),
                "MIROIR_DATA_DIR": str(settings.stack.run_dir / "worker" / f"{app_id}-{i}"),
            }
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "miroir.cli", "worker", "-l", "warn"],
                    env=worker_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    inputs = (
        pilot_env.get("MIROIR_SURVEY_TOPIC", settings.pipeline.survey_topic),
        pilot_env.get("MIROIR_STAFF_TOPIC", settings.pipeline.staff_topic),
    )
    try:
        _wait_for_assignment(urls, workers, inputs, log_path, timeout=180)
        console.print(f"worker: ready — the live mirror page at {urls[0]}/ (JSON at {urls[0]}/mirror/)")
        yield urls
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


@contextmanager
def pilot_worker(settings: Settings, console: Console) -> Iterator[str]:
    """One worker for a fresh pilot; yields its URL once it owns the input partitions."""
    with pilot_workers(settings, console) as urls:
        yield urls[0]


def _wait_for_assignment(
    urls: list[str], workers: list[subprocess.Popen[bytes]], inputs: tuple[str, ...], log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(worker.poll() is not None for worker in workers):
            raise RuntimeError(f"a worker exited; see {log}")
        try:
            assigned = [a for url in urls for a in fetch(url, "/counters/", timeout=2).get("assigned", [])]
            if all(sum(a.startswith(topic + ":") for a in assigned) >= 1 for topic in inputs) and all(
                fetch(url, "/counters/", timeout=2).get("assigned") for url in urls
            ):
                return
        except WorkerUnavailable:
            pass
        time.sleep(1)
    raise RuntimeError(f"the workers did not get their partitions within {timeout:.0f}s; see {log}")


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


def _exit_on_sigterm(*_: object) -> None:
    raise KeyboardInterrupt  # so the pilot worker is stopped on the way out


def run_demo(settings: Settings, options: DemoOptions, console: Console) -> dict[str, Any] | None:
    from infra.stack import up

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    up(settings, echo=console.print)
    taxonomy = pipeline_config().taxonomy
    with pilot_worker(settings, console) as url:
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
    console.print(
        f"in {totals['in']} = processed {totals['processed']} + dead-lettered {totals['dead_lettered']} "
        f"{totals.get('dead_letters_by_reason', {})}; untagged {totals['untagged']}"
    )


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
                    header = Text(
                        f"sent {sent[0]}   in {counters['in']}   processed {counters['processed']}   "
                        f"dead-lettered {counters['dead_lettered']}   untagged {counters['untagged']}   "
                        f"live page: {url}/"
                    )
                    live.update(Group(header, mirror_tables(mirror["states"], taxonomy)))
                except WorkerUnavailable as error:
                    live.update(Text(str(error)))
                time.sleep(1)
        except KeyboardInterrupt:
            console.print("demo: stopping")
