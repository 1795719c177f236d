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
    from processors.analysis import analyse
    from processors.sentiment import textblob_polarity
    from processors.taxonomy import load_taxonomy

    journey = load_taxonomy().journeys["phone_shop"]
    analyse(texts[0], journey)
    textblob_polarity(texts[0], "fr")
    started = time.perf_counter()
    for text in texts:
        analyse(text, journey)
    miroir = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    for text in texts:
        textblob_polarity(text, "fr")
    baseline = len(texts) / (time.perf_counter() - started)
    return {"miroir_per_s": miroir, "textblob_fr_per_s": baseline, "ratio": miroir / baseline}
