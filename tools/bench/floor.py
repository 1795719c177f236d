"""The framework floor of `miroir bench`: a bare faust agent that only iterates and decodes.

Run as its own process, `python -m tools.bench.floor` (FLOOR_TOPIC, FLOOR_COUNT, FLOOR_APP, FLOOR_DATADIR); prints
"FLOOR <events/s>" once it has seen FLOOR_COUNT events, then stops.
"""

import os
import sys
import time

import faust

from config.settings import settings
from schemas import codec_for

COUNT = int(os.environ["FLOOR_COUNT"])
app = faust.App(
    os.environ["FLOOR_APP"],
    broker=settings.kafka.faust_broker,
    store="memory://",
    processing_guarantee="at_least_once",
    consumer_auto_offset_reset="earliest",
    web_enabled=False,
    datadir=os.environ["FLOOR_DATADIR"],
)
events_topic = app.topic(os.environ["FLOOR_TOPIC"], value_type=bytes, value_serializer="raw")
survey_response = codec_for("SurveyResponse")


@app.agent(events_topic)
async def decode_only(stream):
    seen, started = 0, 0.0
    async for raw in stream:
        if not started:
            started = time.perf_counter()
        survey_response.decode(raw)
        seen += 1
        if seen == COUNT:
            print(f"FLOOR {COUNT / (time.perf_counter() - started):.1f}", flush=True)
            os._exit(0)


if __name__ == "__main__":
    sys.argv = ["floor", "worker", "--loglevel", "warn", "--without-web"]
    app.main()
