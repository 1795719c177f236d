"""The pipeline's topics.

Input topics carry raw bytes: the agents decode them with the Avro codec
themselves, so that an undecodable message goes to `dead-letters` with its
reason instead of being skipped inside faust. Output topics use the Avro
codecs registered by name in `streams.avro`.
"""

import faust

from miroir.settings import settings
from schemas.catalog import TOPIC_SCHEMAS
from streams.app import app
from streams.avro import codec_name


def _avro_topic(name: str, topic: str | None = None) -> faust.TopicT:
    """The topic `topic` (default: `name`) with the Avro codec of the catalog's topic `name`."""
    return app.topic(
        topic or name, key_type=str, value_serializer=codec_name(TOPIC_SCHEMAS[name]), key_serializer="raw"
    )


survey_response_topic = app.topic(settings.pipeline.survey_topic, value_type=bytes, value_serializer="raw")
staff_feedback_topic = app.topic(settings.pipeline.staff_topic, value_type=bytes, value_serializer="raw")
callback_outcome_topic = app.topic("callback-outcomes", value_type=bytes, value_serializer="raw")

mirror_state_topic = _avro_topic("mirror-states")
step_alert_topic = _avro_topic("step-alerts")
callback_request_topic = _avro_topic("callback-requests", settings.pipeline.callback_request_topic)
dead_letter_topic = _avro_topic("dead-letters")

# Internal: one message per journey per analysed batch (a JourneyTally delta),
# keyed by journey so that a journey's windows live on one partition; plus one
# message of the batch's counters under COUNTERS_KEY.
COUNTERS_KEY = "__counters__"
journey_delta_topic = app.topic(f"{app.conf.id}-journey-deltas", key_type=str, value_serializer="json", internal=True)
