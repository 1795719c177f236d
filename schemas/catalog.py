"""Which schema each topic carries: the wire contract of the pipeline."""

from __future__ import annotations

from schemas.codec import AvroCodec, codec_for

TOPIC_SCHEMAS: dict[str, str] = {
    "survey-responses": "SurveyResponse",
    "staff-feedback": "StaffFeedback",
    "mirror-states": "MirrorState",
    "step-alerts": "StepAlert",
    "callback-requests": "CallbackRequest",
    "callback-outcomes": "CallbackOutcome",
    "dead-letters": "DeadLetter",
}

ALL_TOPICS: list[str] = list(TOPIC_SCHEMAS)


def codec_for_topic(topic: str) -> AvroCodec:
    try:
        return codec_for(TOPIC_SCHEMAS[topic])
    except KeyError:
        raise KeyError(f"no schema for topic {topic!r}; known: {', '.join(TOPIC_SCHEMAS)}") from None
