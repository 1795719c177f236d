"""Classify a journey step by crossing its customer side with its staff side.

| customer \\ staff | engaged     | indifferent | frustrated |
|------------------|-------------|-------------|------------|
| enchanted        | win_win     | lucky_break | pain       |
| dissatisfied     | wrong_fight | blindness   | dead_end   |

A neutral customer side is `neutral`; too few responses is `insufficient_data`,
never a confident label. Each side keeps its state until its net impact is
back past the threshold by `hysteresis`, so one response does not flip a step.
The types' ids, labels and colours are processors.mirror_types' table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from processors.mirror_types import (
    ALERT_TYPES,
    BLINDNESS,
    DEAD_END,
    INSUFFICIENT,
    LUCKY_BREAK,
    NEUTRAL_TYPE,
    PAIN,
    WIN_WIN,
    WRONG_FIGHT,
)
from processors.states import DISSATISFIED, ENCHANTED, ENGAGED, FRUSTRATED, INDIFFERENT, NEUTRAL
from processors.taxonomy import Thresholds
from processors.windows import SideView

MIRROR_TYPES = {
    (ENCHANTED, ENGAGED): WIN_WIN,
    (ENCHANTED, INDIFFERENT): LUCKY_BREAK,
    (ENCHANTED, FRUSTRATED): PAIN,
    (DISSATISFIED, ENGAGED): WRONG_FIGHT,
    (DISSATISFIED, INDIFFERENT): BLINDNESS,
    (DISSATISFIED, FRUSTRATED): DEAD_END,
}


def _banded(
    net: float, previous: str | None, states: tuple[str, str, str], high_at: float, low_at: float, band: float
) -> str:
    high, middle, low = states
    if previous == high and net > high_at - band:
        return high
    if previous == low and net < low_at + band:
        return low
    if net >= high_at:
        return high
    if net <= low_at:
        return low
    return middle


def customer_side_state(view: SideView, previous: str | None, th: Thresholds) -> str:
    if view.n < th.min_customer_n:
        return INSUFFICIENT
    return _banded(
        view.net_impact,
        previous,
        (ENCHANTED, NEUTRAL, DISSATISFIED),
        th.enchanted_at,
        th.dissatisfied_at,
        th.hysteresis,
    )


def staff_side_state(view: SideView, previous: str | None, th: Thresholds) -> str:
    if view.total < th.min_staff_total:
        return INSUFFICIENT
    if view.n < th.min_staff_n or view.share < th.min_staff_share:
        return INDIFFERENT  # staff do not speak of this step: they are blind to it
    return _banded(
        view.net_impact,
        previous,
        (ENGAGED, INDIFFERENT, FRUSTRATED),
        th.engaged_at,
        th.frustrated_at,
        th.hysteresis,
    )


def mirror_type(customer: str, staff: str) -> str:
    if customer == INSUFFICIENT:
        return INSUFFICIENT
    if customer == NEUTRAL:
        return NEUTRAL_TYPE
    if staff == INSUFFICIENT:
        return INSUFFICIENT
    return MIRROR_TYPES[(customer, staff)]


@dataclass(frozen=True)
class Classification:
    customer_state: str
    staff_state: str
    mirror_type: str
    moment_of_truth: bool
    impact_alerted: bool

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Classification | None:
        return cls(**data) if data else None


def classify(
    customer: SideView,
    staff: SideView,
    previous: Classification | None,
    th: Thresholds,
    alert_impact: float | None = None,
) -> Classification:
    customer_state = customer_side_state(customer, previous.customer_state if previous else None, th)
    staff_state = staff_side_state(staff, previous.staff_state if previous else None, th)
    moment = (
        customer.n >= th.min_customer_n
        and customer.share >= th.moment_of_truth_share
        and abs(customer.net_impact) >= th.moment_of_truth_impact
    )
    threshold = th.alert_impact if alert_impact is None else alert_impact
    was_alerted = bool(previous and previous.impact_alerted)
    alerted = customer.n >= th.min_customer_n and (
        customer.net_impact <= threshold or (was_alerted and customer.net_impact <= threshold + th.hysteresis)
    )
    return Classification(customer_state, staff_state, mirror_type(customer_state, staff_state), moment, alerted)


def alert_kinds(previous: Classification | None, current: Classification) -> list[str]:
    """What a step alert says of this change: entered/left an alert type, impact crossed/recovered."""
    before = previous.mirror_type if previous else None
    kinds = []
    if before != current.mirror_type:
        if before in ALERT_TYPES:
            kinds.append("left")
        if current.mirror_type in ALERT_TYPES:
            kinds.append("entered")
    was_alerted = bool(previous and previous.impact_alerted)
    if current.impact_alerted and not was_alerted:
        kinds.append("impact_crossed")
    elif was_alerted and not current.impact_alerted:
        kinds.append("impact_recovered")
    return kinds
