"""`miroir schemas`: what a producer in another language checks its encoding against."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from config.settings import settings
from miroir.cli import app
from schemas import TOPIC_SCHEMAS, codec_for, schema_names

V1 = "86417996deb8c2f0"  # StaffFeedback before its step_id


def test_each_schema_has_its_topic_and_its_fingerprint() -> None:
    result = CliRunner().invoke(app, ["schemas"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    topics = settings.pipeline.topics
    for name in set(TOPIC_SCHEMAS.values()):
        fingerprint = codec_for(name).fingerprint
        row = next(line.split() for line in lines if line.startswith(f"{name} "))
        carried_on = ",".join(getattr(topics, attr) for attr, schema in TOPIC_SCHEMAS.items() if schema == name)
        assert row == [name, carried_on, fingerprint.hex(), f"0x{fingerprint[::-1].hex()}"]
    assert sum(1 for line in lines if line.split() and line.split()[0] in schema_names()) == len(schema_names())
    # Earlier versions are still read: producers not yet updated keep their fingerprint.
    assert ["StaffFeedback.v1", V1, f"0x{bytes.fromhex(V1)[::-1].hex()}"] in [line.split() for line in lines]


def test_the_topics_are_the_settings_ones() -> None:
    env = {**os.environ, "MIROIR_SURVEY_TOPIC": "answers-of-the-pilot"}
    result = subprocess.run(
        [sys.executable, "-m", "miroir.cli", "schemas", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    rows = {row["schema"]: row for row in json.loads(result.stdout)}
    assert rows["SurveyResponse"]["topic"] == "answers-of-the-pilot"
    assert rows["SurveyResponse"]["fingerprint"] == codec_for("SurveyResponse").fingerprint.hex()
    assert set(rows) == set(schema_names())
    assert rows["StaffFeedback"]["earlier"]["v1"]["fingerprint"] == V1 and rows["SurveyResponse"]["earlier"] == {}
