"""The state of one respondent, and the polarity each of their step mentions carries.

Customer: enchanted / neutral / dissatisfied, fusing the score (NPS promoters
9-10, passives 7-8, detractors 0-6; CSAT 4-5, 3, 1-2) with the text. Staff:
engaged / indifferent / frustrated, from the text and the prompt they answered.
"""

from __future__ import annotations

from processors.analysis import StepPolarity

ENCHANTED, NEUTRAL, DISSATISFIED = "enchanted", "neutral", "dissatisfied"
ENGAGED, INDIFFERENT, FRUSTRATED = "engaged", "indifferent", "frustrated"
SCALES = {"NPS": (0, 10), "CSAT": (1, 5)}

# Text this strongly against the score moves the state one notch towards the text.
_TEXT_OVERRIDE = 0.5
_STAFF_PROMPT_PRIOR = {"most_positive": 0.5, "most_frustrating": -0.5}


def score_polarity(score: int, scale: str) -> float:
    """The score on [-1, 1]: NPS 10 -> 1, 8 -> 0.2, 7 -> -0.2, 6 -> -0.6, <=5 -> -1; CSAT linear."""
    if scale == "NPS":
        return max(-1.0, min(1.0, (score - 7.5) / 2.5))
    return (score - 3) / 2


def score_state(score: int, scale: str) -> str:
    if scale == "NPS":
        return ENCHANTED if score >= 9 else NEUTRAL if score >= 7 else DISSATISFIED
    return ENCHANTED if score >= 4 else NEUTRAL if score == 3 else DISSATISFIED


def customer_state(score: int, scale: str, text_polarity: float) -> str:
    ladder = [DISSATISFIED, NEUTRAL, ENCHANTED]
    rank = ladder.index(score_state(score, scale))
    if text_polarity >= _TEXT_OVERRIDE and rank < 2:
        rank += 1
    elif text_polarity <= -_TEXT_OVERRIDE and rank > 0:
        rank -= 1
    return ladder[rank]


def staff_state(prompt: str, text_polarity: float) -> str:
    polarity = staff_mention_polarity(text_polarity, prompt)
    return ENGAGED if polarity >= 0.2 else FRUSTRATED if polarity <= -0.2 else INDIFFERENT


def customer_mention_polarity(step: StepPolarity, score: int, scale: str) -> float:
    """What a customer's mention of a step says of it: mostly its own clause, a little the score;
    a step tagged only by its measurement point takes text and score half and half."""
    weight = 0.75 if step.cued else 0.5
    return weight * step.polarity + (1 - weight) * score_polarity(score, scale)


def staff_mention_polarity(clause_polarity: float, prompt: str) -> float:
    """A story told as the most frustrating leans negative, as the most positive leans positive."""
    return 0.6 * clause_polarity + 0.4 * _STAFF_PROMPT_PRIOR.get(prompt, 0.0)
