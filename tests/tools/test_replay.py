"""`miroir replay`: rows of an export become input records; bad rows are reported."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from config.settings import Settings
from schemas import codec_for
from tools.replay import (
    PRESETS,
    ReplayOptions,
    RowError,
    parse_mapping,
    parse_time,
    read_rows,
    records,
    to_record,
)

SURVEY = codec_for("SurveyResponse")


def test_french_and_iso_dates() -> None:
    assert parse_time("14 janvier 2025") == datetime(2025, 1, 14, tzinfo=UTC)
    assert parse_time("3 août 2024") == datetime(2024, 8, 3, tzinfo=UTC)
    assert parse_time("2025-02-14") == datetime(2025, 2, 14, tzinfo=UTC)
    with pytest.raises(RowError, match="expected ISO 8601"):
        parse_time("yesterday")


def test_the_certideal_preset_maps_a_row() -> None:
    preset = PRESETS["certideal"]
    row = {
        "Titre commentaire": "Super expérience…",
        "Commentaire": "Livraison rapide",
        "Note client": "5",
        "Date de publication": "09 janvier 2025",
        "Nom du client": "Harka Singh",
    }
    record = to_record(row, ReplayOptions("survey", preset["map"], preset["journey"], preset["scale"]))
    assert record["verbatim"] == "Super expérience. Livraison rapide"
    assert (record["score"], record["score_scale"], record["journey_id"]) == (5, "CSAT", "phone_shop")
    assert record["event_time"] == datetime(2025, 1, 9, tzinfo=UTC)
    assert "Harka" not in record["customer_ref"]  # pseudonymised
    assert to_record(row, ReplayOptions("survey", preset["map"], "phone_shop"))["response_id"] == record["response_id"]


def test_bad_rows_get_their_number_and_reason() -> None:
    options = ReplayOptions("survey", parse_mapping(["text=verbatim", "stars=score"]), journey="phone_shop")
    rows = iter([{"text": "bien", "stars": "4"}, {"text": "bof", "stars": "n/a"}, {"txt": "x", "stars": "1"}])
    results = list(records(rows, options))
    assert isinstance(results[0][1], bytes) and SURVEY.decode(results[0][1])["score"] == 4
    assert results[1] == (2, "score 'n/a' is not a number")
    assert results[2][0] == 3 and "no column 'text'" in str(results[2][1])


def test_a_mapping_needs_column_and_field() -> None:
    assert parse_mapping(["a+b=verbatim"]) == {"a+b": "verbatim"}
    with pytest.raises(ValueError, match="expected column=field"):
        parse_mapping(["verbatim"])


def test_jsonl_is_read(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text('{"text": "a"}\n\n{"text": "b"}\n')
    assert [r["text"] for r in read_rows(path)] == ["a", "b"]


@pytest.mark.integration
def test_replay_streams_a_csv_into_the_real_topic(stack: Settings, tmp_path: Path) -> None:
    from miroir.cli import app
    from tests.integration.kafka_io import consume_all

    marker = uuid.uuid4().hex
    export = tmp_path / "export.csv"
    export.write_text(f"avis,note\nTrès bien {marker},9\nNul {marker},2\n,5\nSans note {marker},\n")
    result = CliRunner().invoke(
        app,
        [
            "replay",
            str(export),
            "--kind",
            "survey",
            "--journey",
            "home_delivery",
            "--scale",
            "NPS",
            "--map",
            "avis=verbatim",
            "--map",
            "note=score",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "sent 3 records" in result.output and "1 bad rows" in result.output
    ours = sorted(
        SURVEY.decode(m.value)["verbatim"]
        for m in consume_all(stack, stack.pipeline.topics.survey_responses)
        if marker.encode() in m.value
    )
    assert ours == [f"Nul {marker}", f"Très bien {marker}"]
