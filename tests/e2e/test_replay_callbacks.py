"""An imported export loses nothing: NPS 0 rows are kept and consenting customers with a way to
reach them get their callback (real Kafka, a real worker, real Redis); a re-import of the same
export makes no second callback, its records recognised by their business ids."""

from __future__ import annotations

import csv
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from typer.testing import CliRunner

from config.settings import Settings
from miroir.cli import app as cli
from processors.mapping import apply_mapping
from tests.e2e.test_callbacks import stream_ids, wait_for
from tools.readout import fetch
from tools.replay import build_mapping, read_rows
from tools.workers import pilot_worker

MAPPING = """
kind: survey
fields:
  journey_id: {default: home_delivery}
  step_id: {from: step, default: delivery}
  score: nps
  score_scale: {default: NPS}
  verbatim: comment
  callback_consent: consent
  contact.name: name
  contact.email: email
  contact.phone: phone
  channel: {from: channel, default: email}
  segment: segment
  event_time: answered_at
"""


def export_rows(marker: str, answered_at: str, n: int) -> list[dict[str, Any]]:
    """n rows of each: NPS 0 and consent with a contact, NPS 0 without consent, NPS 9 with consent."""
    rows = []
    for i in range(n):
        base = {"answered_at": answered_at, "step": "delivery", "channel": "sms", "segment": "VIP"}
        rows += [
            {**base, "nps": 0, "comment": f"Colis jamais livré {marker} {i}", "consent": "oui", "name": f"Client {i}"}
            | {"email": f"c{i}@example.org", "phone": "" if i % 2 else "+33600000000"},
            {**base, "nps": 0, "comment": f"Livreur absent {marker} {i}", "consent": "non", "name": "", "email": ""}
            | {"phone": "+33611111111"},
            {**base, "nps": 9, "comment": f"Livraison parfaite {marker} {i}", "consent": "yes", "name": ""}
            | {"email": f"h{i}@example.org", "phone": ""},
        ]
    return rows


def write_exports(tmp_path: Path, marker: str) -> tuple[Path, Path]:
    now = datetime.now(UTC).isoformat()
    jsonl, table = tmp_path / "export.jsonl", tmp_path / "export.csv"
    jsonl.write_text("\n".join(json.dumps(row) for row in export_rows(f"{marker}-j", now, 3)) + "\n")
    rows = export_rows(f"{marker}-c", now, 3)
    with table.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return jsonl, table


def expected_callbacks(path: Path, mapping_file: Path, site: str) -> list[str]:
    mapping = build_mapping(None, str(mapping_file), overrides={"site": site})
    records = [apply_mapping(row, mapping, datetime.now(UTC)) for row in read_rows(path) if isinstance(row, dict)]
    return [f"cb-{r['response_id']}" for r in records if r["callback_consent"] and r["score"] == 0 and r["contact"]]


def replay(path: Path, mapping_file: Path, site: str) -> str:
    result = CliRunner().invoke(cli, ["replay", str(path), "--mapping", str(mapping_file), "--site", site])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_an_export_keeps_its_nps_zero_rows_and_asks_for_their_callbacks(stack: Settings, tmp_path: Path) -> None:
    site = f"replay-{uuid.uuid4().hex[:8]}"
    mapping_file = tmp_path / "crm.yaml"
    mapping_file.write_text(MAPPING)
    jsonl, table = write_exports(tmp_path, site)
    expected = sorted(expected_callbacks(jsonl, mapping_file, site) + expected_callbacks(table, mapping_file, site))
    assert len(expected) == 6  # 3 consenting NPS 0 customers per export

    with pilot_worker(stack, Console(quiet=True)) as url:
        for path in (jsonl, table):
            output = replay(path, mapping_file, site)
            assert output.endswith("9 rows = 9 sent + 0 bad"), output  # every row, NPS 0 included
        assert wait_for(lambda: sorted(stream_ids(stack.redis.dsn, site)) == expected, timeout=90)

        def figures() -> dict[str, Any] | None:
            found = fetch(url, "/mirror/")["callbacks"]["by_site_step"].get(f"{site}|delivery")
            return found if found and found.get("open") == len(expected) else None

        assert wait_for(figures) is not None
        before = fetch(url, "/counters/")

        assert replay(jsonl, mapping_file, site).endswith("9 rows = 9 sent + 0 bad")  # the same export again
        assert wait_for(lambda: fetch(url, "/counters/")["duplicate"] >= before["duplicate"] + 9)
        time.sleep(3)
        assert sorted(stream_ids(stack.redis.dsn, site)) == expected  # no second callback
