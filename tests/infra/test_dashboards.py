"""Grafana dashboards as code: committed JSON = generator output, valid against Grafana's schemas.

No Grafana server runs in CI; Grafana's published JSON schemas (../shared/grafana) stand in.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from infra.grafana.dashboards import DASHBOARDS, OUT, render
from processors.mirror_types import BY_ID
from streams.metrics import TYPE_CODES

SHARED = Path(os.environ.get("MIROIR_SHARED_DIR", Path(__file__).parents[2] / ".." / "shared"))
SCHEMAS = SHARED / "grafana"
PANEL_SCHEMAS = {"state-timeline": "statetimeline", "timeseries": "timeseries"}


def schema(name: str) -> dict[str, Any]:
    path = SCHEMAS / f"{name}.jsonschema.json"
    if not path.exists():
        pytest.fail(f"Grafana's schema {path} is missing: set MIROIR_SHARED_DIR to the shared folder")
    return json.loads(path.read_text())


def sub_schema(name: str, definition: str) -> dict[str, Any]:
    whole = schema(name)
    return {"$ref": f"#/definitions/{definition}", "definitions": whole["definitions"]}


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_committed_dashboards_are_the_generated_ones(name: str) -> None:
    assert (OUT / name).read_text(encoding="utf-8") == render(name), "run: python -m infra.grafana.dashboards"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboards_validate_against_grafanas_schema(name: str) -> None:
    document = json.loads((OUT / name).read_text())
    jsonschema.validate(document, schema("dashboard"))
    for panel in document["panels"]:
        kind = PANEL_SCHEMAS[panel["type"]]
        jsonschema.validate(panel["options"], sub_schema(kind, "Options"))
        jsonschema.validate(panel["fieldConfig"]["defaults"].get("custom", {}), sub_schema(kind, "FieldConfig"))


def test_a_broken_dashboard_is_caught() -> None:
    document = json.loads((OUT / "miroir-mirror.json").read_text())
    document["panels"][0]["gridPos"]["w"] = 30
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema("dashboard"))


def test_the_state_timeline_maps_every_type_code() -> None:
    document = json.loads((OUT / "miroir-mirror.json").read_text())
    timeline = next(p for p in document["panels"] if p["type"] == "state-timeline")
    options = timeline["fieldConfig"]["defaults"]["mappings"][0]["options"]
    # Each code the worker exports reads as its type's English label, in its colour (the one table).
    assert {int(code): (m["text"], m["color"]) for code, m in options.items()} == {
        code: (BY_ID[name].en, BY_ID[name].colour) for name, code in TYPE_CODES.items()
    }


def test_every_dashboard_query_uses_a_metric_the_worker_exports() -> None:
    import re

    from prometheus_client import REGISTRY

    exported = {metric.name for metric in REGISTRY.collect()}
    exported |= {f"{name}_total" for name in exported} | {f"{name}_bucket" for name in exported}
    for name in DASHBOARDS:
        for panel in json.loads((OUT / name).read_text())["panels"]:
            for target in panel["targets"]:
                for metric in re.findall(r"\b(miroir_[a-z_]+)", target["expr"]):
                    assert metric in exported, f"{name}: {metric} is not exported"
