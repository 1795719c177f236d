"""`miroir simulate` and `miroir replay` write to the topics the settings name, as the worker reads them
(they once wrote to the default topics whatever MIROIR_SURVEY_TOPIC / MIROIR_STAFF_TOPIC said)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from config.settings import Settings
from infra.topics import ensure_topics
from schemas import codec_for
from tests.integration.kafka_io import consume_all

pytestmark = pytest.mark.integration


def miroir(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "miroir.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def own_topics(stack: Settings) -> dict[str, str]:
    run = uuid.uuid4().hex[:8]
    env = {"MIROIR_SURVEY_TOPIC": f"test-survey-{run}", "MIROIR_STAFF_TOPIC": f"test-staff-{run}"}
    ensure_topics(stack, list(env.values()), partitions=1)
    return env


def test_simulate_writes_to_the_configured_input_topics(stack: Settings, own_topics: dict[str, str]) -> None:
    result = miroir("simulate", "--events", "40", "--rate", "2000", env=own_topics)
    assert result.returncode == 0, result.stderr
    # simulate flushed before it exited: each topic is read up to its end (the 40 are split between them)
    survey = consume_all(stack, own_topics["MIROIR_SURVEY_TOPIC"])
    staff = consume_all(stack, own_topics["MIROIR_STAFF_TOPIC"])
    assert len(survey) + len(staff) == 40
    assert survey and staff  # the pilot has both kinds
    assert all(codec_for("SurveyResponse").decode(m.value)["response_id"] for m in survey)
    assert all(codec_for("StaffFeedback").decode(m.value)["feedback_id"] for m in staff)


def test_replay_writes_to_the_configured_topic(stack: Settings, own_topics: dict[str, str], tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("avis,note\nLivraison parfaite,9\nColis perdu,2\n")
    args = ["replay", str(export), "--kind", "survey", "--journey", "home_delivery", "--scale", "NPS"]
    result = miroir(*args, "--map", "avis=verbatim", "--map", "note=score", env=own_topics)
    assert result.returncode == 0, result.stderr
    topic = own_topics["MIROIR_SURVEY_TOPIC"]
    assert f"sent 2 records to {topic}" in " ".join(result.stdout.split())
    verbatims = sorted(codec_for("SurveyResponse").decode(m.value)["verbatim"] for m in consume_all(stack, topic))
    assert verbatims == ["Colis perdu", "Livraison parfaite"]
