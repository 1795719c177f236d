"""The bench's table and its JSON results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def report(results: dict[str, Any], console: Console, output: Path) -> Path:
    table = Table("measure", "figure", "baseline / ratio", title="Miroir bench", title_justify="left")
    table.add_row("ceiling: aiokafka consumer, decode only", f"{results['ceiling_per_s']:,.0f} events/s", "")
    table.add_row("floor: bare faust agent, decode only", f"{results['faust_floor_per_s']:,.0f} events/s", "")
    table.add_row(
        "pipeline: one worker",
        f"{results['pipeline_per_s']:,.0f} events/s",
        f"{results['pipeline_vs_faust_floor']:.0%} of faust floor, {results['pipeline_vs_ceiling']:.1%} of ceiling",
    )
    if "two_workers_per_s" in results:
        table.add_row(
            "pipeline: two workers",
            f"{results['two_workers_per_s']:,.0f} events/s",
            f"×{results['scale_out_ratio']:.2f} vs one",
        )
    for lat in results["latency"]:
        fmt = lambda v: "-" if v is None else f"{v * 1000:.0f}"  # noqa: E731
        table.add_row(
            f"latency at {lat['offered_per_s']}/s, produce → mirror",
            f"p50 {fmt(lat['mirror_p50_s'])} / p95 {fmt(lat['mirror_p95_s'])} / p99 {fmt(lat['mirror_p99_s'])} ms",
            "",
        )
        table.add_row(
            f"latency at {lat['offered_per_s']}/s, produce → callback in Redis",
            f"p50 {fmt(lat['callback_p50_s'])} / p95 {fmt(lat['callback_p95_s'])} / "
            f"p99 {fmt(lat['callback_p99_s'])} ms",
            f"{lat['callbacks']} callbacks",
        )
    for n in results.get("notify", []):
        fmt = lambda v: "-" if v is None else f"{v * 1000:,.0f}"  # noqa: E731
        for label, key in (("callback in Redis", "redis"), ("e-mail", "email"), ("webhook", "webhook")):
            table.add_row(
                f"notifications at {n['offered_per_s']}/s, produce → {label}",
                f"p50 {fmt(n[f'{key}_p50_s'])} / p95 {fmt(n[f'{key}_p95_s'])} / p99 {fmt(n[f'{key}_p99_s'])} ms",
                f"{n['notifications_per_s']} notifications/s sustained" if key == "email" else "",
            )
        if "baseline_redis_p50_s" in n:
            table.add_row(
                f"notifications at {n['offered_per_s']}/s, produce → callback in Redis, notifier off",
                f"p50 {fmt(n['baseline_redis_p50_s'])} / p95 {fmt(n['baseline_redis_p95_s'])} / "
                f"p99 {fmt(n['baseline_redis_p99_s'])} ms",
                "the baseline",
            )
        table.add_row(
            f"notifications at {n['offered_per_s']}/s, by delivery id",
            f"{n['callbacks_admitted']:,} callbacks: {n['emails_received']:,} e-mails, {n['webhooks_received']:,} "
            f"webhooks; {n['distinct_delivery_ids']:,} of {n['deliveries_expected']:,} ids",
            f"missing {n['missing']}, duplicates {n['redelivered_same_id']}, other ids {n['unexpected_ids']}",
        )
    if "intake" in results:
        i = results["intake"]
        for label, load in (("single POSTs", i["single"]), (f"POSTs of {i['batched'].get('batch')}", i["batched"])):
            table.add_row(
                f"intake: {label} at {load['offered_per_s']:.0f}/s",
                f"p50 {load['p50_ms']:.0f} / p95 {load['p95_ms']:.0f} / p99 {load['p99_ms']:.0f} ms",
                f"answered {load['answered_per_s']:.0f}/s; statuses {load['statuses']}",
            )
        table.add_row(
            "intake: every 202 in Kafka once",
            f"{i['accepted']:,} accepted: {i['lost']} lost, {i['duplicated']} duplicated",
            f"plain producer (acks=all) {i['plain_producer_per_s']:,.0f} records/s",
        )
    s = results["scorer"]
    table.add_row(
        "scorer: Miroir analysis (language, steps, per-step polarity)",
        f"{s['miroir_per_s']:,.0f} verbatims/s",
        f"×{s['ratio']:.1f} vs TextBlob-fr ({s['textblob_fr_per_s']:,.0f}/s)",
    )
    if "dedupe" in results:
        d = results["dedupe"]
        table.add_row(
            "dedupe: memory per remembered id (seen_ids, memory store)",
            f"{d['memory_bytes_per_id']:.0f} B (pilot ids) / {d['memory_bytes_per_uuid_id']:.0f} B (UUIDs; "
            f"{d['memory_bytes_per_recovered_uuid_id']:.0f} B once recovered after a restart)",
            f"changelog {d['changelog_bytes_per_uuid_id']} B/id; 1M UUID ids ≈ "
            f"{d['memory_bytes_per_uuid_id'] * 1e6 / 2**20:.0f} MiB",
        )
    if "memory" in results:
        m = results["memory"]
        table.add_row(
            "worker RSS",
            " → ".join(f"{k}: {v} MiB" for k, v in m["rss_mib"].items())
            + (f" ({max(m['remembered_ids'].values()):,} ids remembered)" if m.get("remembered_ids") else ""),
            f"last step +{m['growth_last_step']:.1%}" if m["growth_last_step"] is not None else "",
        )
    console.print(table)
    output.mkdir(parents=True, exist_ok=True)
    path = output / f"{results['date'][:19].replace(':', '')}.json"
    path.write_text(json.dumps(results, indent=2))
    console.print(f"bench: results in {path}")
    return path
