"""Creates the pipeline's topics with their partition counts (idempotent)."""

from __future__ import annotations

import logging

from config.settings import Settings

log = logging.getLogger(__name__)


def ensure_topics(settings: Settings, names: list[str] | None = None, partitions: int | None = None) -> list[str]:
    """Create the missing topics; return the names created. Existing ones are left as they are."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    wanted = names or settings.pipeline.topics.public()
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
                        )
                        for name in missing
                    ]
                )
            except TopicAlreadyExistsError:
                log.info("another process created some of %s first", missing)
        return missing
    finally:
        admin.close()
