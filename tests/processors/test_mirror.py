"""The six types, the minimum-sample guard, hysteresis and step alerts."""

import pytest

from processors.mirror import Classification, alert_kinds, classify, customer_side_state, mirror_type
from processors.taxonomy import load_taxonomy
from processors.windows import SideView

TH = load_taxonomy().thresholds


def side(net: float, n: int = 20, total: int = 40) -> SideView:
    return SideView(n=n, total=total, pos_sum=max(net, 0) * n, neg_sum=min(net, 0) * n)


SILENT_STAFF = SideView(n=0, total=40, pos_sum=0.0, neg_sum=0.0)


@pytest.mark.parametrize(
    ("customer", "staff", "expected"),
    [
        (side(0.6), side(0.5), "win_win"),
        (side(0.6), SILENT_STAFF, "lucky_break"),
        (side(0.6), side(-0.5), "pain"),
        (side(-0.6), side(0.5), "wrong_fight"),
        (side(-0.6), SILENT_STAFF, "blindness"),
        (side(-0.6), side(-0.5), "dead_end"),
        (side(0.05), side(-0.5), "neutral"),
        (side(-0.6), side(0.0), "blindness"),  # staff speak of it without feeling: indifferent
    ],
)
def test_the_six_types(customer: SideView, staff: SideView, expected: str) -> None:
    assert classify(customer, staff, None, TH).mirror_type == expected


def test_too_few_responses_is_insufficient_data_never_a_label() -> None:
    assert classify(side(-0.9, n=4), side(-0.9), None, TH).mirror_type == "insufficient_data"
    staff_too_few = SideView(n=2, total=3, pos_sum=0.0, neg_sum=-1.8)
    assert classify(side(-0.9), staff_too_few, None, TH).mirror_type == "insufficient_data"
    assert mirror_type("neutral", "insufficient_data") == "neutral"


def test_staff_who_rarely_mention_a_step_are_blind_to_it() -> None:
    rare = SideView(n=1, total=100, pos_sum=0.0, neg_sum=-0.9)
    assert classify(side(-0.6), rare, None, TH).staff_state == "indifferent"


def test_hysteresis_holds_a_state_until_clearly_past_the_threshold() -> None:
    assert customer_side_state(side(-0.12), None, TH) == "neutral"
    assert customer_side_state(side(-0.12), "dissatisfied", TH) == "dissatisfied"
    assert customer_side_state(side(-0.07), "dissatisfied", TH) == "neutral"
    assert customer_side_state(side(0.12), "enchanted", TH) == "enchanted"


def test_one_response_does_not_flip_a_step() -> None:
    # 10 responses at -0.2 (dissatisfied), then an 11th enthusiastic one: net -0.1, still dead end.
    before = classify(side(-0.2, n=10), side(-0.5), None, TH)
    after_one = classify(SideView(11, 40, 0.9, -2.0), side(-0.5), before, TH)
    assert before.mirror_type == after_one.mirror_type == "dead_end"


def test_moment_of_truth_needs_occurrence_and_impact() -> None:
    assert classify(side(-0.6, n=20, total=40), SILENT_STAFF, None, TH).moment_of_truth
    assert not classify(side(-0.6, n=5, total=100), SILENT_STAFF, None, TH).moment_of_truth
    assert not classify(side(-0.1, n=20, total=40), SILENT_STAFF, None, TH).moment_of_truth


def test_alerts_on_entering_and_leaving_alert_types() -> None:
    pain = classify(side(0.6), side(-0.5), None, TH)
    dead_end = classify(side(-0.6), side(-0.5), pain, TH)
    assert alert_kinds(pain, dead_end) == ["entered", "impact_crossed"]
    blindness = classify(side(-0.6), SILENT_STAFF, dead_end, TH)
    assert alert_kinds(dead_end, blindness) == ["left", "entered"]
    recovered = classify(side(0.6), SILENT_STAFF, blindness, TH)
    assert alert_kinds(blindness, recovered) == ["left", "impact_recovered"]
    assert alert_kinds(recovered, classify(side(0.6), SILENT_STAFF, recovered, TH)) == []


def test_a_step_can_have_its_own_alert_threshold() -> None:
    assert not classify(side(-0.2), SILENT_STAFF, None, TH).impact_alerted
    assert classify(side(-0.2), SILENT_STAFF, None, TH, alert_impact=-0.15).impact_alerted


def test_classification_round_trips_as_a_dict() -> None:
    c = classify(side(-0.6), side(-0.5), None, TH)
    assert Classification.from_dict(c.to_dict()) == c
