"""A real faust worker consumes Avro from the real broker and updates a table."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

from config.settings import Settings
from config.topics import Topics
from schemas import codec_for
from tests.examples import EXAMPLES
from tests.integration.kafka_io import consume, produce


def test_a_faust_agent_consumes_a_topic_and_updates_a_table(stack: Settings, fresh_topic: str, tmp_path: Path) -> None:
    app_id = f"probe-{uuid.uuid4().hex[:8]}"
    journeys = ["home_delivery"] * 3 + ["click_collect"] * 2
    codec = codec_for("SurveyResponse")
    produce(
        stack,
        fresh_topic,
        [
            codec.encode({**EXAMPLES["SurveyResponse"], "response_id": f"r{i}", "journey_id": journey})
            for i, journey in enumerate(journeys)
        ],
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        web_port = sock.getsockname()[1]
    env = {
        **os.environ,
        "PROBE_WEB_PORT": str(web_port),
        "PROBE_APP": app_id,
        "PROBE_TOPIC": fresh_topic,
        "PROBE_DATADIR": str(tmp_path / "data"),
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.faust_probe"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        changelog = consume(stack, Topics(app_id).changelog("journey_to_count"), expected=5, timeout=60)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()

    latest = {json.loads(m.key): json.loads(m.value) for m in changelog}
    assert latest == {"home_delivery": 3, "click_collect": 2}, (tmp_path / "worker.log").read_text()[-3000:]
