"""The pipeline's topics, named by the settings (config/topics.py).

Input topics carry raw bytes: the agents decode them with the Avro codec
themselves, so that an undecodable message goes to `dead-letters` with its
reason instead of being skipped inside faust. Output topics use the Avro
codecs registered by name in `streams.avro`.
"""

import faust

from config.settings import settings
from schemas.catalog import TOPIC_SCHEMAS
from streams.app import app
from streams.avro import codec_name
from streams.records import JourneyDelta

names = settings.pipeline.topics


def _avro_topic(role: str) -> faust.TopicT:
    """The topic `names.<role>` with the Avro codec of the schema it carries."""
    return app.topic(
        getattr(names, role), key_type=str, value_serializer=codec_name(TOPIC_SCHEMAS[role]), key_serializer="raw"
    )


survey_response_topic = app.topic(names.survey_responses, value_type=bytes, value_serializer="raw")
staff_feedback_topic = app.topic(names.staff_feedback, value_type=bytes, value_serializer="raw")
callback_outcome_topic = app.topic(names.callback_outcomes, value_type=bytes, value_serializer="raw")

mirror_state_topic = _avro_topic("mirror_states")
step_alert_topic = _avro_topic("step_alerts")
callback_request_topic = _avro_topic("callback_requests")
dead_letter_topic = _avro_topic("dead_letters")
dead_letter_log_topic = _avro_topic("dead_letter_log")

# Internal: one JourneyDelta per journey per analysed batch, keyed by journey so that a
# journey's windows live on one partition; plus one of the batch's counters under COUNTERS_KEY.
COUNTERS_KEY = "__counters__"
journey_delta_topic = app.topic(names.journey_deltas, key_type=str, value_type=JourneyDelta, internal=True)
