"""Which schema each topic carries: the wire contract of the pipeline.

Keyed by the attribute of `config.topics.Topics` that names the topic (the
names themselves come from the settings), valued by the `.avsc` it carries.
"""

from __future__ import annotations

TOPIC_SCHEMAS: dict[str, str] = {
    "survey_responses": "SurveyResponse",
    "staff_feedback": "StaffFeedback",
    "mirror_states": "MirrorState",
    "step_alerts": "StepAlert",
    "callback_requests": "CallbackRequest",
    "callback_outcomes": "CallbackOutcome",
    "dead_letters": "DeadLetter",
    "dead_letter_log": "DeadLetter",  # the same record with its original cut (empty bytes, no detail)
}

# The input kinds producers name ("survey", "staff"; see config.topics.INPUT_KINDS) -> their schema.
INPUT_SCHEMAS: dict[str, str] = {"survey": "SurveyResponse", "staff": "StaffFeedback"}
