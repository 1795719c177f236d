"""A small-N run of `miroir bench` and `miroir eval` (the full runs are `make bench`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rich.console import Console

from config.settings import Settings
from tools.bench import BenchOptions, report, run_bench
from tools.eval_suite import load_suite, per_step
from tools.evaluate import EvalSet, evaluate_file

SHARED_DATA = Path(os.environ.get("MIROIR_SHARED_DIR", Path(__file__).parents[2] / ".." / "shared")) / "data"


def test_a_small_bench_measures_every_figure_against_its_baseline(stack: Settings, tmp_path: Path) -> None:
    options = BenchOptions(
        events=2000,
        rates=(100,),
        rate_seconds=3.0,
        memory_steps=(),
        scale_out=False,
        intake_rate=100.0,
        intake_seconds=3.0,
        intake_batch=10,  # 10 POSTs/s of 10
        notify_rates=(80,),  # a quarter ask for a callback: 60 callbacks in 3 s
        notify_seconds=3.0,
        french_reviews=None,
        output=tmp_path,
    )
    results = run_bench(stack, options, Console(quiet=True))
    path = report(results, Console(quiet=True), tmp_path)
    saved = json.loads(path.read_text())
    assert saved["machine"]["cores"] and saved["events"] == 2000
    for figure in ("ceiling_per_s", "faust_floor_per_s", "pipeline_per_s"):
        assert saved[figure] > 0
    assert saved["pipeline_vs_faust_floor"] == saved["pipeline_per_s"] / saved["faust_floor_per_s"]
    latency = saved["latency"][0]
    assert latency["events"] == 300 and 0 < latency["mirror_p50_s"] <= latency["mirror_p99_s"]
    assert latency["callbacks"] > 0 and latency["callback_p99_s"] > 0
    assert saved["scorer"]["miroir_per_s"] > 0 and saved["scorer"]["textblob_fr_per_s"] > 0
    intake = saved["intake"]
    assert intake["single"]["requests"] == 300 and intake["batched"]["records"] == 300
    assert intake["accepted"] == 600 and (intake["lost"], intake["duplicated"]) == (0, 0)
    assert 0 < intake["single"]["p50_ms"] <= intake["single"]["p99_ms"] and intake["plain_producer_per_s"] > 0
    # Every admitted callback got exactly one e-mail per manager of its site and one webhook, by delivery id.
    (notify,) = saved["notify"]
    assert notify["callbacks_produced"] == notify["callbacks_admitted"] == 60
    assert notify["emails_received"] == notify["emails_expected"] == 60 * notify["managers_per_site"]
    assert notify["webhooks_received"] == notify["webhooks_expected"] == 60
    assert notify["distinct_delivery_ids"] == notify["deliveries_expected"]
    assert (notify["missing"], notify["redelivered_same_id"], notify["unexpected_ids"]) == (0, 0, 0)
    assert notify["redis_p50_s"] > 0 and 0 < notify["email_p50_s"] <= notify["email_p99_s"]
    assert 0 < notify["baseline_redis_p50_s"] <= notify["baseline_redis_p99_s"]  # the same load, notifier off


def test_a_small_eval_compares_with_textblob_on_the_shared_reviews() -> None:
    french, airline = SHARED_DATA / "fr_ecommerce_reviews_certideal.csv", SHARED_DATA / "en_airline_reviews_ba.csv"
    assert french.exists() and airline.exists(), f"the shared reviews are missing under {SHARED_DATA}"
    result = evaluate_file(EvalSet(french, "Titre commentaire+Commentaire", "Note client", 5, "fr", "phone_shop", 300))
    confusion = result.miroir.confusion
    assert result.rows == 300 and sum(sum(row.values()) for row in confusion.values()) == 300
    mine, base = result.miroir.binary_balanced_accuracy, result.textblob.binary_balanced_accuracy
    assert mine is not None and base is not None and mine > base
    assert result.tagged_share is not None and 0.5 < result.tagged_share <= 1
    assert result.miroir.per_s > 0 and result.textblob.per_s > 0
    item, sub_ratings = load_suite(SHARED_DATA, limit=300)["per_step"]
    steps = per_step(item, sub_ratings)
    assert set(steps) == {"ground_service", "cabin_staff_service", "food_&_beverages", "seat_comfort"}
    assert all(figures["mentions"] > 0 for figures in steps.values())
