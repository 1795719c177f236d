"""The callback rule, the anti-over-solicitation rules and the SLA maths."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from processors.callbacks import (
    CustomerHistory,
    admission,
    callback_request,
    is_overdue,
    loop_metrics,
    priority,
    wants_callback,
    within_sla,
)
from processors.taxonomy import PerScale, load_taxonomy
from tests.examples import EXAMPLES

TAXONOMY = load_taxonomy()
POLICY = TAXONOMY.callbacks
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
RESPONSE = {**EXAMPLES["SurveyResponse"], "step_id": None, "score": 8}


def asks(text_polarity: float = 0.0, **change: object) -> str | None:
    return wants_callback({**RESPONSE, **change}, text_polarity, TAXONOMY, POLICY)


def test_a_detractor_who_consented_is_called_back() -> None:
    assert asks(score=6) == "score"
    assert asks(score=7) is None
    assert asks(score=2, score_scale="CSAT") == "score"
    assert asks(score=3, score_scale="CSAT") is None


def test_no_consent_or_no_way_to_reach_means_no_callback() -> None:
    assert asks(score=1, callback_consent=False) is None
    assert asks(score=1, contact=None) is None
    assert asks(score=1, contact={"name": "A", "email": None, "phone": None}) is None


def test_each_measurement_point_has_its_own_objective() -> None:
    # Delivery's objective is 7: a 6 is below. After-sales' objective is lower (6): a 6 is not.
    assert asks(score=6, step_id="delivery") == "score"
    assert asks(score=6, step_id="after_sales") is None
    assert asks(score=5, step_id="after_sales") == "score"


def test_a_strongly_negative_text_asks_for_a_callback_whatever_the_score() -> None:
    assert asks(-0.6, score=9) == "text"
    assert asks(-0.4, score=9) is None


def test_priority() -> None:
    assert priority({"score": 2, "score_scale": "NPS"}, 0.0, POLICY) == "high"
    assert priority({"score": 3, "score_scale": "NPS"}, 0.0, POLICY) == "high"
    assert priority({"score": 4, "score_scale": "NPS"}, 0.0, POLICY) == "normal"
    assert priority({"score": 1, "score_scale": "CSAT"}, 0.0, POLICY) == "high"
    assert priority({"score": 2, "score_scale": "CSAT"}, 0.0, POLICY) == "normal"
    assert priority({"score": 5, "score_scale": "NPS"}, -0.7, POLICY) == "high"
    assert priority({"score": 5, "score_scale": "NPS"}, -0.69, POLICY) == "normal"


def test_the_policy_s_numbers_decide() -> None:
    """Priority and the no-measurement-point threshold are the policy's (thresholds.yaml), not the code's."""
    lenient = replace(POLICY, high_priority_score_at=PerScale(nps=0, csat=0), high_priority_text_at=-0.9)
    assert priority({"score": 2, "score_scale": "NPS"}, -0.8, lenient) == "normal"
    strict = replace(POLICY, default_threshold=PerScale(nps=9, csat=4))
    assert wants_callback({**RESPONSE, "score": 8}, 0.0, TAXONOMY, strict) == "score"
    assert wants_callback({**RESPONSE, "score": 3, "score_scale": "CSAT"}, 0.0, TAXONOMY, strict) == "score"


def test_the_request_carries_its_due_time_from_the_sla() -> None:
    default = callback_request({**RESPONSE, "score": 3}, 0.0, TAXONOMY, POLICY, NOW)
    assert default is not None and default["callback_id"] == "cb-r-1"
    assert default["due_at"] - default["created_at"] == timedelta(hours=48)
    after_sales = callback_request({**RESPONSE, "score": 3, "step_id": "after_sales"}, 0.0, TAXONOMY, POLICY, NOW)
    assert after_sales is not None and after_sales["due_at"] == NOW + timedelta(hours=24)
    by_site = replace(POLICY, sla_hours_by_site=(("lyon", 4.0),))
    fast = callback_request({**RESPONSE, "score": 3, "step_id": "after_sales"}, 0.0, TAXONOMY, by_site, NOW)
    assert fast is not None and fast["due_at"] == NOW + timedelta(hours=4)
    assert callback_request(RESPONSE, 0.0, TAXONOMY, POLICY, NOW) is None


@pytest.mark.parametrize(
    ("known", "history", "now", "decision"),
    [
        (False, CustomerHistory(), 0.0, "admit"),
        (True, CustomerHistory(open_callback="cb-1"), 0.0, "duplicate"),
        (False, CustomerHistory(open_callback="cb-other"), 0.0, "customer_has_open_callback"),
        (False, CustomerHistory(closed_at=1000.0), 1000.0 + 29 * 86400, "quiet_period"),
        (False, CustomerHistory(closed_at=1000.0), 1000.0 + 31 * 86400, "admit"),
    ],
)
def test_admission(known: bool, history: CustomerHistory, now: float, decision: str) -> None:
    assert admission("cb-1", known, history, now, quiet_days=30) == decision


def test_sla_maths() -> None:
    assert is_overdue(due_at=100.0, resolved=False, now=101.0)
    assert not is_overdue(due_at=100.0, resolved=True, now=101.0)
    assert within_sla(resolved_at=100.0, due_at=100.0) and not within_sla(100.5, 100.0)
    assert loop_metrics([3600.0, 7200.0, 36000.0], within=2, resolved=3) == {
        "resolved": 3,
        "within_sla_pct": 66.7,
        "median_hours_to_callback": 2.0,
    }
    assert loop_metrics([], 0, 0)["within_sla_pct"] is None


def test_a_redelivered_outcome_is_counted_once() -> None:
    from processors.callbacks import add_outcome

    created = datetime(2026, 11, 2, 9, tzinfo=UTC)
    outcome = {"within_sla": True, "created_at": created, "resolved_at": created + timedelta(hours=3)}
    loop = add_outcome({}, outcome, "callback-outcomes:1", 7, kept=10)
    counted = {"callback-outcomes:1": [[7, 8]]}
    assert loop == {"resolved": 1, "within_sla": 1, "durations": [3 * 3600.0], "counted": counted}
    assert add_outcome(loop, outcome, "callback-outcomes:1", 7, kept=10) is loop
    late = {**outcome, "within_sla": False, "resolved_at": created + timedelta(hours=30)}
    loop = add_outcome(loop, late, "callback-outcomes:0", 2, kept=1)  # another partition has its own mark
    assert (loop["resolved"], loop["within_sla"], loop["durations"]) == (2, 1, [30 * 3600.0])
