"""A minimal faust app for the foundation test: counts Avro survey responses per journey.

Run as a separate worker process by test_faust_table.py (PROBE_APP, PROBE_TOPIC in env).
"""

import os
import sys

import faust

from config.settings import settings
from schemas import codec_for

app = faust.App(
    os.environ["PROBE_APP"],
    broker=settings.kafka.faust_broker,
    store="memory://",
    processing_guarantee="at_least_once",
    topic_partitions=1,
    web_port=int(os.environ["PROBE_WEB_PORT"]),
    datadir=os.environ["PROBE_DATADIR"],
)
responses = app.topic(os.environ["PROBE_TOPIC"], value_type=bytes, value_serializer="raw")
journey_to_count = app.Table("journey_to_count", default=int, partitions=1)
survey_response = codec_for("SurveyResponse")


@app.agent(responses)
async def count_responses(stream):
    async for raw in stream:
        journey_to_count[survey_response.decode(raw)["journey_id"]] += 1


if __name__ == "__main__":
    sys.argv = ["probe", "worker", "--loglevel", "warn"]
    app.main()
