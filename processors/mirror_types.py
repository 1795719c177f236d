"""The mirror types: the one table of their ids, FR/EN labels and colours.

Everything that names or paints a type takes it from here: the classification
(processors.mirror), the live page (served as JSON by streams.page), the
terminal read-out, the Prometheus type codes and the Grafana dashboards.
The order is the display order (legend, and the codes of `miroir_step_type_code`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

WIN_WIN = "win_win"
LUCKY_BREAK = "lucky_break"
PAIN = "pain"
WRONG_FIGHT = "wrong_fight"
BLINDNESS = "blindness"
DEAD_END = "dead_end"
NEUTRAL_TYPE = "neutral"
INSUFFICIENT = "insufficient_data"


@dataclass(frozen=True)
class MirrorType:
    id: str
    fr: str
    en: str
    colour: str  # hex, #rrggbb
    alert: bool = False  # entering or leaving it is a step alert
    light: bool = False  # a light colour: written on in dark ink

    def label(self, language: str) -> str:
        return self.fr if language == "fr" else self.en


TYPES: tuple[MirrorType, ...] = (
    MirrorType(WIN_WIN, "le win-win", "win-win", "#2e9e4f"),
    MirrorType(LUCKY_BREAK, "le coup de chance", "lucky break", "#3aa6c9"),
    MirrorType(PAIN, "la douleur", "pain", "#b455b6"),
    MirrorType(WRONG_FIGHT, "le mauvais combat", "wrong fight", "#e0b400", alert=True),
    MirrorType(BLINDNESS, "la cécité", "blindness", "#ee7d1e", alert=True),
    MirrorType(DEAD_END, "l'impasse", "dead end", "#d43a3a", alert=True),
    MirrorType(NEUTRAL_TYPE, "neutre", "neutral", "#9aa3ad", light=True),
    MirrorType(INSUFFICIENT, "données insuffisantes", "insufficient data", "#d9dde2", light=True),
)
BY_ID = {t.id: t for t in TYPES}
# The six types of the matrix (the alert types among them): their ids and labels are this table's words only.
SIX = tuple(t for t in TYPES if t.id not in (NEUTRAL_TYPE, INSUFFICIENT))
# Words of the table a side state uses too (processors.states, the page's state labels): not the table's own.
SHARED_WORDS = frozenset({NEUTRAL_TYPE, INSUFFICIENT, BY_ID[NEUTRAL_TYPE].fr, BY_ID[NEUTRAL_TYPE].en})
TYPE_IDS = tuple(BY_ID)
ALERT_TYPES = frozenset(t.id for t in TYPES if t.alert)
LABELS = {t.id: {"fr": t.fr, "en": t.en} for t in TYPES}
COLOURS = {t.id: t.colour for t in TYPES}


def as_json() -> dict[str, Any]:
    """The table for the live page: the types in display order, and the one a step without data shows."""
    return {"types": [asdict(t) for t in TYPES], "no_data": INSUFFICIENT}
