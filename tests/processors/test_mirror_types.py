"""The mirror types' table: exactly the types the classification gives, each labelled and coloured once."""

import itertools
import re
from pathlib import Path

from processors import mirror_types
from processors.mirror import ALERT_TYPES, Classification, classify
from processors.states import NEUTRAL
from processors.taxonomy import load_taxonomy
from processors.windows import SideView

TH = load_taxonomy().thresholds
WEB = Path(__file__).parents[2] / "streams" / "web"


def sides() -> list[SideView]:
    """Every kind of side: too few, silent, rare, and each net impact band around the thresholds."""
    views = []
    for n, total in ((0, 0), (0, 40), (1, 100), (2, 3), (4, 40), (5, 40), (20, 40)):
        for net in (-0.9, -0.2, -0.12, -0.05, 0.0, 0.05, 0.12, 0.2, 0.9):
            views.append(SideView(n=n, total=total, pos_sum=max(net, 0) * n, neg_sum=min(net, 0) * n))
    return views


def test_the_table_covers_exactly_the_types_classify_can_return() -> None:
    returned: set[str] = set()
    previous: list[Classification | None] = [None]
    for customer_state, staff_state in itertools.product(
        ("enchanted", NEUTRAL, "dissatisfied", mirror_types.INSUFFICIENT),
        ("engaged", "indifferent", "frustrated", mirror_types.INSUFFICIENT),
    ):
        previous.append(Classification(customer_state, staff_state, "", False, False))
    for customer, staff, before in itertools.product(sides(), sides(), previous):
        returned.add(classify(customer, staff, before, TH).mirror_type)
    assert returned == set(mirror_types.TYPE_IDS)
    assert len(mirror_types.TYPE_IDS) == len(mirror_types.TYPES) == 8  # no id twice


def test_each_type_has_its_labels_a_hex_colour_and_alerts_are_the_classifications_alerts() -> None:
    for kind in mirror_types.TYPES:
        assert kind.fr and kind.en and kind.fr != kind.id
        assert re.fullmatch(r"#[0-9a-f]{6}", kind.colour), kind
    assert len({kind.colour for kind in mirror_types.TYPES}) == len(mirror_types.TYPES)
    assert {mirror_types.WRONG_FIGHT, mirror_types.BLINDNESS, mirror_types.DEAD_END} == ALERT_TYPES
    assert mirror_types.LABELS[mirror_types.DEAD_END] == {"fr": "l'impasse", "en": "dead end"}


def test_the_page_table_is_the_table_in_display_order() -> None:
    table = mirror_types.as_json()
    assert [t["id"] for t in table["types"]] == list(mirror_types.TYPE_IDS)
    assert table["no_data"] == mirror_types.INSUFFICIENT
    assert set(table["types"][0]) == {"id", "fr", "en", "colour", "alert", "light"}


def test_the_page_defines_no_type_of_its_own() -> None:
    """mirror.js and mirror.css take ids, labels and colours from the table (neutral and
    insufficient_data are also side states, which the page labels itself)."""
    page = (WEB / "mirror.js").read_text(encoding="utf-8") + (WEB / "mirror.css").read_text(encoding="utf-8")
    for kind in mirror_types.TYPES:
        assert kind.colour not in page.lower(), kind
        if kind.id not in (mirror_types.NEUTRAL_TYPE, mirror_types.INSUFFICIENT):
            for text in (kind.id, kind.fr, kind.en):
                assert text not in page, text
