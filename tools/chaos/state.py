"""What the pipeline kept: its tables as their changelogs have them, the groups' lag, the Redis queue."""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from config.settings import Settings
from processors.config import pipeline_config
from processors.windows import JourneyTally
from sinks.callback_queue import SITES, SUPPRESSED, customer_key, site_stream
from tools.chaos.options import ChaosError

if TYPE_CHECKING:
    from tools.chaos.run import Run


def read_changelog(settings: Settings, topic: str) -> dict[str, Any]:
    """A table as its changelog has it: the latest value of each key."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(**settings.kafka.client_config(), enable_auto_commit=False, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        table: dict[str, Any] = {}
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=1000, max_records=2000).values():
                for record in records:
                    key = json.loads(record.key)
                    if record.value is None:
                        table.pop(key, None)
                    else:
                        table[key] = json.loads(record.value)
        return table
    finally:
        consumer.close()


def lag(settings: Settings, group: str, topics: list[str]) -> int:
    """Messages of `topics` the consumer group has not committed yet: 0 once all is processed."""
    from kafka import KafkaConsumer, TopicPartition

    # With a group id but no subscription, the consumer reads the group's offsets without joining it.
    consumer = KafkaConsumer(**settings.kafka.client_config(), group_id=group, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        end = consumer.end_offsets(partitions)
        return sum(end[tp] - (consumer.committed(tp) or 0) for tp in partitions)
    finally:
        consumer.close()


def topic_size(settings: Settings, topic: str) -> int:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(**settings.kafka.client_config(), group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def window_figures(tallies: dict[str, Any]) -> dict[str, tuple[int, int, float, float]]:
    """Per 'journey|step|window|side': n, verbatims, positive and negative sums."""
    config = pipeline_config()
    figures = {}
    for journey_id, data in tallies.items():
        tally = JourneyTally.from_dict(data)
        for window in config.windows:
            for step in config.taxonomy.journeys[journey_id].steps:
                for side in ("customer", "staff"):
                    v = tally.view(window, side, step.id)
                    key = f"{journey_id}|{step.id}|{window.name}|{side}"
                    figures[key] = (v.n, v.total, v.pos_sum, v.neg_sum)
    return figures


def mirror_types(tallies: dict[str, Any]) -> dict[str, str]:
    return {
        f"{journey_id}|{key}": classified["mirror_type"]
        for journey_id, data in tallies.items()
        for key, classified in data.get("classified", {}).items()
    }


def verbatims(tallies: dict[str, Any]) -> Counter[str]:
    """Verbatims per 'journey|side' in the long window (the replay spans well under it)."""
    config = pipeline_config()
    long = max(config.windows, key=lambda w: w.size)
    out: Counter[str] = Counter()
    for journey_id, data in tallies.items():
        tally = JourneyTally.from_dict(data)
        for side in ("customer", "staff"):
            out[f"{journey_id}|{side}"] = tally.view(long, side, "").total
    return out


def queued_callbacks(redis_url: str) -> dict[str, Any]:
    """The queue's entries per callback, each customer's open callback, and every request the queue
    decided on (admitted, or suppressed with its reason: a customer's second open callback)."""
    import redis

    client: Any = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        entries: Counter[str] = Counter()
        for site in client.smembers(SITES):
            for _, fields in client.xrange(site_stream(site)):
                entries[fields["callback_id"]] += 1
        customers: dict[str, str] = {}
        # HASH only: the customer's history (customer_callbacks_key, a sorted set) shares the prefix.
        for key in client.scan_iter(customer_key("*"), _type="HASH"):
            if opened := client.hget(key, "open"):
                customers[key.rsplit(":", 1)[1]] = opened
        suppressed = client.hgetall(SUPPRESSED)
        return {"entries": entries, "customers": customers, "decided": set(entries) | set(suppressed)}
    finally:
        client.close()


def settled_state(settings: Settings, run: Run) -> dict[str, Any]:
    """The tables and the queue once the group has committed everything it read, and they stopped
    moving."""
    with contextlib.suppress(ChaosError):  # what never gets counted is reported as lost
        run.wait_until(lambda: run.unprocessed(settings) == 0, "committing every input")
    previous = None
    for _ in range(30):
        tallies = read_changelog(settings, run.topics.changelog("journey_to_tally"))
        counters = read_changelog(settings, run.topics.changelog("input_counts")).get("inputs", {}).get("counts", {})
        queue = queued_callbacks(run.redis_url)
        state = {"tallies": tallies, "counters": counters, "queue": queue}
        if state == previous:
            return state
        previous = state
        time.sleep(2)
    return previous or {}
