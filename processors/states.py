"""The state of one respondent, and the polarity each of their step mentions carries.

Customer: enchanted / neutral / dissatisfied, fusing the score (NPS promoters
9-10, passives 7-8, detractors 0-6; CSAT 4-5, 3, 1-2) with the text. Staff:
engaged / indifferent / frustrated, from the text and the prompt they answered.
The weights and cut-offs are the `states:` section of the taxonomy (thresholds.yaml).
"""

from __future__ import annotations

from processors.analysis import StepPolarity
from processors.taxonomy import StatePolicy

ENCHANTED, NEUTRAL, DISSATISFIED = "enchanted", "neutral", "dissatisfied"
ENGAGED, INDIFFERENT, FRUSTRATED = "engaged", "indifferent", "frustrated"
SCALES = {"NPS": (0, 10), "CSAT": (1, 5)}


def score_polarity(score: int, scale: str) -> float:
    """The score on [-1, 1]: NPS 10 -> 1, 8 -> 0.2, 7 -> -0.2, 6 -> -0.6, <=5 -> -1; CSAT linear."""
    if scale == "NPS":
        return max(-1.0, min(1.0, (score - 7.5) / 2.5))
    return (score - 3) / 2


def score_state(score: int, scale: str) -> str:
    if scale == "NPS":
        return ENCHANTED if score >= 9 else NEUTRAL if score >= 7 else DISSATISFIED
    return ENCHANTED if score >= 4 else NEUTRAL if score == 3 else DISSATISFIED


def customer_state(score: int, scale: str, text_polarity: float, policy: StatePolicy) -> str:
    """The score's state, moved one notch towards a text at least `text_override_at` strong."""
    ladder = [DISSATISFIED, NEUTRAL, ENCHANTED]
    rank = ladder.index(score_state(score, scale))
    if text_polarity >= policy.text_override_at and rank < 2:
        rank += 1
    elif text_polarity <= -policy.text_override_at and rank > 0:
        rank -= 1
    return ladder[rank]


def staff_state(prompt: str, text_polarity: float, policy: StatePolicy) -> str:
    polarity = staff_mention_polarity(text_polarity, prompt, policy)
    cut = policy.staff_state_at
    return ENGAGED if polarity >= cut else FRUSTRATED if polarity <= -cut else INDIFFERENT


def customer_mention_polarity(step: StepPolarity, score: int, scale: str, policy: StatePolicy) -> float:
    """What a customer's mention of a step says of it: mostly its own clause, a little the score;
    a step tagged only by its measurement point takes text and score half and half."""
    weight = policy.cued_clause_weight if step.cued else policy.uncued_clause_weight
    return weight * step.polarity + (1 - weight) * score_polarity(score, scale)


def staff_mention_polarity(clause_polarity: float, prompt: str, policy: StatePolicy) -> float:
    """A story told as the most frustrating leans negative, as the most positive leans positive."""
    weight = policy.staff_clause_weight
    return weight * clause_polarity + (1 - weight) * policy.prompt_prior(prompt)
