"""Grafana dashboards as code: `python -m infra.grafana.dashboards` writes infra/grafana/dashboards/*.json.

The JSON files are committed (Grafana's provisioning reads them); a test checks
they equal this module's output and validate against Grafana's published schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from processors.mirror_types import BY_ID, INSUFFICIENT, SIX, TYPES

OUT = Path(__file__).parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "miroir-prometheus"}
SCHEMA_VERSION = 41
LEGEND = {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []}
TOOLTIP = {"mode": "multi", "sort": "none"}


def target(expr: str, legend: str, ref: str = "A") -> dict[str, Any]:
    return {"refId": ref, "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}


def panel(
    kind: str,
    title: str,
    grid: tuple[int, int, int, int],
    targets: list[dict[str, Any]],
    options: dict[str, Any],
    defaults: dict[str, Any] | None = None,
    description: str = "",
) -> dict[str, Any]:
    x, y, w, h = grid
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": targets,
        "options": options,
        "fieldConfig": {"defaults": defaults or {}, "overrides": []},
    }


def timeseries(
    title: str,
    grid: tuple[int, int, int, int],
    targets: list[dict[str, Any]],
    unit: str = "short",
    description: str = "",
) -> dict[str, Any]:
    return panel(
        "timeseries",
        title,
        grid,
        targets,
        {"legend": LEGEND, "tooltip": TOOLTIP},
        {"unit": unit, "custom": {"lineWidth": 2, "fillOpacity": 10, "spanNulls": True}},
        description,
    )


def variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {
        "type": "query",
        "name": name,
        "label": label,
        "datasource": DATASOURCE,
        "query": query,
        "definition": query,
        "refresh": 2,
        "sort": 1,
        "multi": False,
        "includeAll": False,
    }


def dashboard(
    uid: str, title: str, panels: list[dict[str, Any]], variables: list[dict[str, Any]], description: str
) -> dict[str, Any]:
    for i, p in enumerate(panels, start=1):
        p["id"] = i
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["miroir"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "refresh": "10s",
        "time": {"from": "now-6h", "to": "now"},
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "panels": panels,
        "templating": {"list": variables},
        "annotations": {
            "list": [
                {
                    "name": "Step alerts",
                    "enable": True,
                    "iconColor": "red",
                    "builtIn": 0,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "target": {"limit": 100, "matchAny": True, "tags": ["miroir"], "type": "tags"},
                }
            ]
        },
        "links": [],
    }


def mirror() -> dict[str, Any]:
    mappings = [
        {
            "type": "value",
            "options": {
                str(code): {"text": kind.en, "color": kind.colour, "index": code}
                for code, kind in enumerate(TYPES)  # the codes of streams.metrics.TYPE_CODES: the table's order
            },
        }
    ]
    timeline = panel(
        "state-timeline",
        "The mirror: each step's type over time",
        (0, 0, 24, 10),
        [target('max by (step) (miroir_step_type_code{journey="$journey", window="$window"})', "{{step}}")],
        {
            "showValue": "auto",
            "rowHeight": 0.85,
            "mergeValues": True,
            "alignValue": "left",
            "legend": LEGEND,
            "tooltip": {"mode": "single", "sort": "none"},
        },
        {
            "mappings": mappings,
            "color": {"mode": "thresholds"},
            "thresholds": {"mode": "absolute", "steps": [{"value": None, "color": BY_ID[INSUFFICIENT].colour}]},
            "custom": {"lineWidth": 0, "fillOpacity": 85},
        },
        ", ".join(t.en for t in SIX).capitalize() + " — or too few answers yet.",
    )
    return dashboard(
        "miroir-mirror",
        "Miroir — the mirror",
        [
            timeline,
            timeseries(
                "Customer net impact per step",
                (0, 10, 12, 8),
                [
                    target(
                        'miroir_step_net_impact{journey="$journey", window="$window", side="customer"}',
                        "{{step}}",
                    )
                ],
            ),
            timeseries(
                "Staff net impact per step",
                (12, 10, 12, 8),
                [
                    target(
                        'miroir_step_net_impact{journey="$journey", window="$window", side="staff"}',
                        "{{step}}",
                    )
                ],
            ),
            timeseries(
                "Customer occurrence per step (share of verbatims)",
                (0, 18, 12, 8),
                [
                    target(
                        'miroir_step_occurrence_share{journey="$journey", window="$window", side="customer"}',
                        "{{step}}",
                    )
                ],
                unit="percentunit",
            ),
            timeseries(
                "Moments of truth",
                (12, 18, 12, 8),
                [target('miroir_step_moment_of_truth{journey="$journey", window="$window"}', "{{step}}")],
            ),
        ],
        [
            variable("journey", "Journey", "label_values(miroir_step_type_code, journey)"),
            variable("window", "Window", "label_values(miroir_step_type_code, window)"),
        ],
        "The live mirror of customer and staff experience, step by step (impact × occurrence).",
    )


def callbacks() -> dict[str, Any]:
    return dashboard(
        "miroir-callbacks",
        "Miroir — callbacks",
        [
            timeseries("Open callbacks", (0, 0, 12, 8), [target("miroir_callbacks_open", "{{site}}")]),
            timeseries("Overdue callbacks", (12, 0, 12, 8), [target("miroir_callbacks_overdue", "{{site}}")]),
            timeseries(
                "Resolved within SLA",
                (0, 8, 12, 8),
                [target("miroir_callbacks_within_sla_ratio", "{{site}}")],
                unit="percentunit",
            ),
            timeseries(
                "Callbacks requested and escalated (per hour)",
                (12, 8, 12, 8),
                [
                    target("sum by (site) (increase(miroir_callbacks_requested_total[1h]))", "requested {{site}}"),
                    target(
                        "sum by (site) (increase(miroir_callback_escalations_total[1h]))",
                        "escalated {{site}}",
                        "B",
                    ),
                ],
            ),
        ],
        [],
        "The closed loop: callbacks open, overdue, resolved within their SLA.",
    )


def pipeline_health() -> dict[str, Any]:
    return dashboard(
        "miroir-pipeline",
        "Miroir — pipeline health",
        [
            timeseries(
                "Throughput (events/s)",
                (0, 0, 12, 8),
                [target("sum by (outcome) (rate(miroir_events_total[1m]))", "{{outcome}}")],
            ),
            timeseries(
                "Dead letters by reason (per minute)",
                (12, 0, 12, 8),
                [target("sum by (reason) (increase(miroir_dead_letters_total[1m]))", "{{reason}}")],
            ),
            timeseries(
                "Processing latency p50 / p99",
                (0, 8, 12, 8),
                [
                    target(
                        "histogram_quantile(0.5, sum by (le) (rate(miroir_processing_latency_seconds_bucket[5m])))",
                        "p50",
                    ),
                    target(
                        "histogram_quantile(0.99, sum by (le) (rate(miroir_processing_latency_seconds_bucket[5m])))",
                        "p99",
                        "B",
                    ),
                ],
                unit="s",
            ),
            timeseries(
                "Consumer lag (messages)",
                (12, 8, 12, 8),
                [
                    target(
                        "sum by (topic) (faust_topic_partition_end_offset - faust_topic_partition_offset_commited)",
                        "{{topic}}",
                    )
                ],
            ),
        ],
        [],
        "Throughput, lag, latency and dead letters of the Miroir workers.",
    )


DASHBOARDS = {
    "miroir-mirror.json": mirror,
    "miroir-callbacks.json": callbacks,
    "miroir-pipeline.json": pipeline_health,
}


def render(name: str) -> str:
    return json.dumps(DASHBOARDS[name](), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name in DASHBOARDS:
        (OUT / name).write_text(render(name), encoding="utf-8")
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
