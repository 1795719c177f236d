"""`miroir replay`: rows of an export become input records through a mapping; bad rows are
reported with their reason; the count reconciles (rows = sent + bad)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from config.settings import Settings
from miroir.cli import app
from processors.taxonomy import load_taxonomy
from schemas import codec_for
from tools.replay import (
    PRESETS,
    ReplayError,
    build_mapping,
    check_columns,
    outcomes,
    parse_pairs,
    read_rows,
    replay_file,
)

SURVEY = codec_for("SurveyResponse")
NOW = datetime(2025, 6, 1, tzinfo=UTC)
CLI_MAP = ["--kind", "survey", "--journey", "home_delivery", "--scale", "NPS", "--map", "avis=verbatim"]


def test_the_presets_are_shipped_mappings() -> None:
    for preset in PRESETS:
        assert build_mapping(None, preset=preset).name == preset
    certideal = build_mapping(None, preset="certideal", overrides={"scale": "NPS", "site": "paris", "prompt": "x"})
    assert certideal.rule("score_scale").default == "NPS"  # type: ignore[union-attr]
    assert certideal.rule("site").default == "paris"  # type: ignore[union-attr]
    assert build_mapping("staff", "glassdoor-cons", overrides={"journey": "phone_shop"}).kind == "staff"


def test_map_pairs_add_to_the_kinds_base_mapping() -> None:
    pairs = ["avis=verbatim", "note=score", "ok=callback_consent"]
    mapping = build_mapping("survey", pairs=pairs, overrides={"journey": "home_delivery"})
    assert mapping.rule("score").sources == ("note",)  # type: ignore[union-attr]
    assert mapping.rule("site").default == "replay"  # type: ignore[union-attr]
    assert parse_pairs(["a+b=verbatim"]) == {"a+b": "verbatim"}
    with pytest.raises(ReplayError, match="expected column=field"):
        parse_pairs(["verbatim"])


@pytest.mark.parametrize(
    ("kind", "name", "preset", "pairs", "message"),
    [
        ("survey", None, None, ["note=score"], "no column maps to verbatim"),
        ("survey", None, None, ["a=verbatim", "n=score"], "no journey: map a column to journey_id or pass --journey"),
        ("survey", None, None, ["a=verbatim", "n=nps"], "nps: not a field of survey records"),
        (None, None, None, [], "--kind must be survey or staff"),
        (None, "certideal", "certideal", [], "not both"),
        (None, None, "typeform", [], "unknown preset 'typeform'"),
        ("staff", "certideal", None, [], "makes survey records"),
        (None, "no-such", None, [], "no mapping 'no-such'"),
    ],
)
def test_what_the_options_lack_is_said(
    kind: str | None, name: str | None, preset: str | None, pairs: list[str], message: str
) -> None:
    with pytest.raises(ReplayError, match=message):
        build_mapping(kind, name, preset, pairs)


def test_a_csv_without_a_mapped_column_is_refused_before_any_row(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("avis,note\nbien,9\n")
    mapping = build_mapping("survey", pairs=["avis=verbatim", "stars=score"], overrides={"journey": "home_delivery"})
    with pytest.raises(ReplayError, match=r"score: no column 'stars' in export\.csv"):
        check_columns(export, mapping)
    check_columns(export, mapping.with_sources({"note": "score"}))  # every column there: fine


def test_bad_rows_get_their_number_and_reason_and_zero_is_a_score() -> None:
    overrides = {"journey": "home_delivery", "scale": "NPS"}
    mapping = build_mapping("survey", pairs=["text=verbatim", "stars=score"], overrides=overrides)
    rows: list[dict[str, Any]] = [
        {"text": "bien", "stars": "4"},
        {"text": "bof", "stars": "n/a"},
        {"txt": "x", "stars": "1"},
        {"text": "nul", "stars": 0},
        {"text": "", "stars": "3"},
        {"text": "trop", "stars": "11"},
    ]
    results = list(outcomes(iter(rows), mapping, NOW, load_taxonomy()))
    assert results[0].value is not None and SURVEY.decode(results[0].value)["score"] == 4
    assert (results[1].number, results[1].reason) == (2, "score: 'n/a' is not a number")
    assert results[2].number == 3 and results[2].reason == "empty_verbatim: SurveyResponse.verbatim is empty"
    assert results[3].record is not None and results[3].record["score"] == 0
    assert results[4].reason is not None and results[4].reason.startswith("empty_verbatim")
    assert results[5].reason is not None and results[5].reason.startswith("score_out_of_range")  # NPS 0-10


def test_a_dry_run_needs_no_kafka_and_reconciles(tmp_path: Path) -> None:
    settings = Settings()
    mapping = build_mapping("survey", pairs=["t=verbatim", "n=score"], overrides={"journey": "home_delivery"})
    rows = iter([{"t": f"avis {i}", "n": str(i % 6)} for i in range(12)])
    result = replay_file(settings, rows, mapping, dry_run=True, now=NOW)
    assert (result.rows, result.sent, result.good, len(result.bad)) == (12, 0, 10, 2)  # n=0 is no CSAT score
    assert [number for number, _ in result.bad] == [1, 7] and len(result.first) == 5
    assert result.reconciliation() == "12 rows = 10 good + 2 bad (dry run: nothing sent)"
    assert result.topic == settings.pipeline.topics.survey_responses


def test_jsonl_is_read(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text('{"text": "a"}\n\n{"text": "b", "nps": 0}\n')
    assert list(read_rows(path)) == [{"text": "a"}, {"text": "b", "nps": 0}]


def test_unreadable_rows_are_bad_rows_not_a_crash(tmp_path: Path) -> None:
    lines, table = tmp_path / "export.jsonl", tmp_path / "export.csv"
    lines.write_text('{"avis": "bien", "note": 9}\n{"avis": "coupé", "note\n[1, 2]\n')
    table.write_bytes("\ufeffavis,note\nbien,9\ntrop,3,4\n".encode())  # a spreadsheet's byte order mark
    mapping = build_mapping("survey", pairs=["avis=verbatim", "note=score"], overrides={"journey": "home_delivery"})
    check_columns(table, mapping)
    reasons = [o.reason for o in outcomes(read_rows(lines), mapping, NOW)]
    assert (
        reasons[0] is None
        and str(reasons[1]).startswith("not JSON")
        and reasons[2] == ("payload: expected an object, got list")
    )
    reasons = [o.reason for o in outcomes(read_rows(table), mapping, NOW)]
    assert reasons == [None, "1 values more than the header's columns"]


def test_the_cli_dry_run_lists_records_and_every_bad_row(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    lines = [{"avis": f"Avis {i}", "note": i % 11} for i in range(30)] + [{"avis": "Sans note"}]
    export.write_text("\n".join(json.dumps(line) for line in lines))
    result = CliRunner().invoke(app, ["replay", str(export), *CLI_MAP, "--map", "note=score", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert '"score": 0' in result.output and "row 31: score: no 'note' in the payload" in result.output
    assert result.output.strip().endswith("31 rows = 30 good + 1 bad (dry run: nothing sent)")
    refused = CliRunner().invoke(app, ["replay", str(export), *CLI_MAP, "--map", "note=nps", "--dry-run"])
    assert refused.exit_code == 1 and "nps: not a field of survey records" in refused.output


@pytest.mark.integration
def test_replay_streams_a_csv_into_the_real_topic_keyed_by_id(stack: Settings, tmp_path: Path) -> None:
    from tests.integration.kafka_io import consume_all

    marker = uuid.uuid4().hex
    export = tmp_path / "export.csv"
    export.write_text(f"avis,note\nTrès bien {marker},9\nNul {marker},0\n,5\nSans note {marker},\n")
    result = CliRunner().invoke(app, ["replay", str(export), *CLI_MAP, "--map", "note=score"])
    assert result.exit_code == 0, result.output
    assert "sent 2 records" in result.output and "2 bad rows" in result.output
    assert result.output.strip().endswith("4 rows = 2 sent + 2 bad")
    ours = {
        m.key.decode(): SURVEY.decode(m.value)
        for m in consume_all(stack, stack.pipeline.topics.survey_responses)
        if marker.encode() in m.value
    }
    assert sorted((r["verbatim"], r["score"]) for r in ours.values()) == [
        (f"Nul {marker}", 0),
        (f"Très bien {marker}", 9),
    ]
    assert all(key == record["response_id"] for key, record in ours.items())
