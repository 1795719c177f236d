"""The Faust app, and nothing else: topics, tables and agents live in their own modules."""

import faust

from config.settings import settings
from streams import faust_fixes
from streams.avro import register_avro_codecs

register_avro_codecs()
faust_fixes.apply()

app = faust.App(
    settings.pipeline.app_id,
    broker=settings.kafka.faust_broker,
    broker_credentials=settings.kafka.faust_credentials(),
    store=settings.pipeline.store,
    # faust's exactly-once mode has open duplicate bugs: run at-least-once and
    # make every sink idempotent instead.
    processing_guarantee="at_least_once",
    broker_session_timeout=settings.kafka.session_timeout,
    broker_heartbeat_interval=settings.kafka.heartbeat_interval,
    consumer_auto_offset_reset=settings.pipeline.auto_offset_reset,
    topic_partitions=settings.kafka.topic_partitions,
    topic_replication_factor=settings.kafka.replication_factor,
    web_host=settings.pipeline.web_host,
    web_port=settings.pipeline.web_port,
    datadir=str(settings.pipeline.data_dir),
    autodiscover=True,
    origin="streams",
)
