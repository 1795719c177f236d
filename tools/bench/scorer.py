"""The scorer: Miroir's analysis of French verbatims against plain TextBlob-fr."""

from __future__ import annotations

import time
from pathlib import Path

from tools.simulate import simulate


def french_texts(path: Path | None, limit: int = 3000) -> list[str]:
    import csv

    if path and path.exists():
        with path.open(encoding="utf-8") as source:
            texts = [
                f"{r['Titre commentaire']}. {r['Commentaire']}"
                for r in csv.DictReader(source)
                if r["Commentaire"].strip()
            ]
        return texts[:limit]
    return [
        e.record["verbatim"]
        for e in simulate(1, 0, limit * 2, 1.0, staff_share=0.0)
        if e.record.get("language") != "en"
    ][:limit]


def scorer(texts: list[str]) -> dict[str, float]:
    """Verbatims per second, each scorer on the same texts in the same run. Miroir's full analysis
    (language, clauses, steps of a journey, a polarity per step) in batches, as a worker runs it:
    warmed first on other texts (a worker's word caches fill within its first minutes), then timed
    on the rest; TextBlob-fr keeps no cache."""
    from processors.analysis import analyse_many
    from processors.sentiment import textblob_polarity
    from processors.taxonomy import load_taxonomy

    journey = load_taxonomy().journeys["phone_shop"]
    warm, timed = texts[: len(texts) // 3], texts[len(texts) // 3 :]
    analyse_many(warm, journey)
    textblob_polarity(texts[0], "fr")
    started = time.perf_counter()
    for at in range(0, len(timed), 500):
        analyse_many(timed[at : at + 500], journey)
    miroir = len(timed) / (time.perf_counter() - started)
    started = time.perf_counter()
    for text in timed:
        textblob_polarity(text, "fr")
    baseline = len(timed) / (time.perf_counter() - started)
    return {"miroir_per_s": miroir, "textblob_fr_per_s": baseline, "ratio": miroir / baseline}
