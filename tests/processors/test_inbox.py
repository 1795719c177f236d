"""The inbox's pure rules: tabs, order, who may do what, root causes, a site's figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import ManagersSettings
from processors.access import AccessError
from processors.callbacks import loop_metrics
from processors.inbox import (
    ACTIONS,
    load_root_causes,
    parse_root_causes,
    refusal,
    site_figures,
    tabs,
    urgency,
)

NOW = 1_000_000.0


def test_a_case_shows_in_its_status_tab_and_while_unresolved_in_overdue_and_escalated() -> None:
    assert tabs("open", NOW + 60, False, NOW) == ["todo"]
    assert tabs("claimed", NOW - 60, False, NOW) == ["in_progress", "overdue"]
    assert tabs("claimed", NOW - 60, True, NOW) == ["in_progress", "overdue", "escalated"]
    assert tabs("resolved", NOW - 60, True, NOW) == ["done"]  # done is done, late or not
    assert tabs("erased", NOW - 60, True, NOW) == ["done"]  # erased at the person's request: nobody calls back


def test_the_most_urgent_come_first_and_resolved_ones_last_newest_first() -> None:
    def case(cid: str, **fields: object) -> dict[str, object]:
        return {"callback_id": cid, "status": "open", "priority": "normal", "due_at": NOW, "created_at": NOW, **fields}

    cases = [
        case("normal-soon", due_at=NOW + 10),
        case("resolved-old", status="resolved", resolved_at=NOW - 100),
        case("high-later", priority="high", due_at=NOW + 500),
        case("normal-overdue", due_at=NOW - 50),
        case("resolved-new", status="resolved", resolved_at=NOW - 1),
        case("normal-soon-newer", due_at=NOW + 10, created_at=NOW + 1),
    ]
    assert [c["callback_id"] for c in sorted(cases, key=urgency)] == [
        "high-later",
        "normal-overdue",
        "normal-soon-newer",
        "normal-soon",
        "resolved-new",
        "resolved-old",
    ]


OPEN = {"status": "open"}
MINE = {"status": "claimed", "claimed_by": "me"}
THEIRS = {"status": "claimed", "claimed_by": "them"}
DONE = {"status": "resolved", "claimed_by": "them"}


@pytest.mark.parametrize(
    ("action", "case", "elevated", "expected"),
    [
        ("claim", OPEN, False, None),
        ("claim", MINE, False, None),  # again: nothing changes
        ("claim", THEIRS, False, "claimed"),
        ("claim", THEIRS, True, "claimed"),  # a lead reassigns, never snatches
        ("claim", DONE, False, "resolved"),
        ("release", MINE, False, None),
        ("release", THEIRS, False, "not_yours"),
        ("release", THEIRS, True, None),
        ("release", OPEN, False, "not_claimed"),
        ("reassign", OPEN, False, None),
        ("reassign", MINE, False, None),
        ("reassign", THEIRS, False, "not_yours"),
        ("reassign", THEIRS, True, None),
        ("reassign", DONE, True, "resolved"),
        ("resolve", OPEN, False, None),
        ("resolve", MINE, False, None),
        ("resolve", THEIRS, False, "not_yours"),
        ("resolve", THEIRS, True, None),
        ("resolve", DONE, False, "resolved"),
        ("reopen", DONE, False, None),
        ("reopen", MINE, False, "not_resolved"),
        ("reopen", OPEN, False, "not_resolved"),
        ("reopen", {**DONE, "anonymised_at": "1.0"}, True, "anonymised"),  # nobody left to call back
        *((action, {"status": "erased"}, True, "erased") for action in ("claim", "release", "resolve", "reopen")),
    ],
)
def test_who_may_do_what(action: str, case: dict[str, str], elevated: bool, expected: str | None) -> None:
    assert refusal(action, case, "me", elevated) == expected


def test_an_unknown_action_is_a_bug() -> None:
    assert "reopen" in ACTIONS
    with pytest.raises(ValueError, match="no action"):
        refusal("delete", OPEN, "me")


def test_the_sites_figures_are_the_mirrors_loop_metrics_with_open_and_overdue() -> None:
    durations = [3600.0, 7200.0, 1800.0, 900.0]
    counts = {"open": 3, "overdue": 1, "resolved": 4, "within_sla": 3, "durations": durations}
    assert site_figures(counts) == {"open": 3, "overdue": 1, **loop_metrics(durations, 3, 4)}
    assert site_figures(counts)["within_sla_pct"] == 75.0 and site_figures(counts)["median_hours_to_callback"] == 0.75
    empty = site_figures({"open": 0, "overdue": 0, "resolved": 0, "within_sla": 0, "durations": []})
    assert empty["within_sla_pct"] is None and empty["median_hours_to_callback"] is None


def test_the_shipped_root_causes_load_with_both_languages() -> None:
    causes = load_root_causes(ManagersSettings().root_causes_file)
    assert "late_delivery" in causes and "other" in causes
    assert causes["late_delivery"].label("fr") == "Livraison en retard"
    assert causes["late_delivery"].label("en") == "Late delivery"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "non-empty 'root_causes'"),
        ({"root_causes": [{"id": "x", "fr": "X"}]}, "English 'en'"),
        ({"root_causes": [{"id": "a b", "fr": "X", "en": "X"}]}, "root cause id"),
        ({"root_causes": [{"id": "x", "fr": "X", "en": "X"}, {"id": "x", "fr": "Y", "en": "Y"}]}, "twice"),
    ],
)
def test_a_root_causes_file_that_does_not_hold_together_is_refused(data: object, message: str) -> None:
    with pytest.raises(AccessError, match=message):
        parse_root_causes(data)


def test_an_unreadable_root_causes_file_says_which(tmp_path: Path) -> None:
    with pytest.raises(AccessError, match="root causes file"):
        load_root_causes(tmp_path / "missing.yaml")
