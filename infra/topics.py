"""Creates the pipeline's topics with their partition counts and retention (idempotent).

Retention is privacy's (processors/privacy.py, README "Your data"): the topics that carry what people
wrote or how to reach them keep it `input_days`, dead-letters (original bytes of rejected inputs)
`dead_letter_days`, dead-letter-log (their reasons and origins, no bytes) `case_days`; mirror states
and step alerts name nobody and keep Kafka's default.
"""

from __future__ import annotations

import logging

from config.settings import Settings
from processors.privacy import retention

log = logging.getLogger(__name__)


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """Topic-level settings a cluster should use, by topic (what `miroir topics show` prints)."""
    topics, ms = settings.pipeline.topics, retention(settings.privacy).topic_retention_ms()
    personal = (topics.survey_responses, topics.staff_feedback, topics.callback_requests, topics.callback_outcomes)
    configs: dict[str, dict[str, str]] = {name: {} for name in topics.public()}
    for name in personal:
        configs[name] = {"retention.ms": str(ms["inputs"])}
    configs[topics.dead_letters] = {"retention.ms": str(ms["dead_letters"])}
    configs[topics.dead_letter_log] = {"retention.ms": str(ms["dead_letter_log"])}
    return configs


def ensure_topics(settings: Settings, names: list[str] | None = None, partitions: int | None = None) -> list[str]:
    """Create the missing topics (with their retention); return the names created. The retention of
    the pipeline's own topics that exist already is set to what the settings say."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    wanted = names or settings.pipeline.topics.public()
    configs = topic_configs(settings)
    admin = KafkaAdminClient(**settings.kafka.client_config())
    try:
        existing = set(admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if missing:
            try:
                admin.create_topics(
                    [
                        NewTopic(
                            name,
                            partitions or settings.kafka.topic_partitions,
                            settings.kafka.replication_factor,
                            topic_configs=configs.get(name, {}),
                        )
                        for name in missing
                    ]
                )
            except TopicAlreadyExistsError:
                log.info("another process created some of %s first", missing)
        kept = [name for name in wanted if name in existing and configs.get(name)]
        if kept:
            answer = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, n, configs[n]) for n in kept])
            refused = {n: why for n, why in answer.get("topic", {}).items() if why != "OK"}
            if refused:  # kafka-python answers errors rather than raising them
                raise RuntimeError(f"the broker refused the topics' retention: {refused}")
        return missing
    finally:
        admin.close()


def described(settings: Settings, names: list[str]) -> dict[str, dict[str, str]]:
    """The cluster's current retention.ms of each topic ("-": no such topic)."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    admin = KafkaAdminClient(**settings.kafka.client_config())
    try:
        existing = set(admin.list_topics())
        found = {name: {"retention.ms": "-"} for name in names}
        present = [name for name in names if name in existing]
        if present:
            answer = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in present])
            for name, entries in answer.get("topic", {}).items():
                found[name] = {"retention.ms": str(entries.get("retention.ms", {}).get("value", "-"))}
        return found
    finally:
        admin.close()
