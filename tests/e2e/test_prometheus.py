"""Debian's Prometheus scrapes a real worker and finds the per-step series through its HTTP API."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from config.settings import Settings
from tools.demo import DemoOptions, stream_pilot
from tools.workers import pilot_worker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def query(port: int, promql: str) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return list(json.load(response)["data"]["result"])
    except OSError:
        return []


def test_prometheus_finds_the_per_step_series(stack: Settings, tmp_path: Path) -> None:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("Debian's prometheus is needed (infra/install-system-deps.sh installs it)")
    with pilot_worker(stack, Console(quiet=True)) as url:
        stream_pilot(stack, DemoOptions(400, 5, 400.0, 0.0, True, None), lambda n: None)
        worker = url.removeprefix("http://")
        port = free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s}\n"
            f"scrape_configs: [{{job_name: miroir, static_configs: [{{targets: ['{worker}']}}]}}]\n"
        )
        prometheus = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            found: list[dict[str, Any]] = []
            while not found and time.monotonic() < deadline:
                found = query(port, 'miroir_step_type{journey="home_delivery", window="live", type="dead_end"} == 1')
                time.sleep(1)
            mentions = query(port, 'miroir_step_mentions{journey="home_delivery", side="customer", window="live"}')
            processed = query(port, 'miroir_events_total{outcome="processed"}')
        finally:
            prometheus.terminate()
            prometheus.wait(timeout=30)
    assert {r["metric"]["step"] for r in found} == {"pickup"}
    assert {r["metric"]["step"] for r in mentions} >= {"store_visit", "pickup", "delivery", "assembly"}
    assert float(processed[0]["value"][1]) == 400
