"""The pipeline's tables (changelogged to Kafka, recovered on restart)."""

from __future__ import annotations

import json

from processors.dedupe import FirstSeen
from streams.app import app

# journey id -> JourneyTally.to_dict(): window buckets, evidence, last classification.
journey_to_tally = app.Table("journey_to_tally", default=dict)

# INPUTS_KEY -> {"counts": {"in", "processed", "untagged", "duplicate", "unkeyed", "dead:<reason>": n},
# "counted": {"<topic:partition>": offsets counted, as ranges}}: one value, so that
# counts and offsets change in one write. The analysis agents send their batch's
# inputs through the journey-deltas topic under one key, so one partition (and
# one worker) owns them all.
INPUTS_KEY = "inputs"
input_counts = app.Table("input_counts", default=dict)

# "<site>|<step>" -> {"resolved", "within_sla", "durations": [seconds, latest last]}
site_step_to_loop = app.Table("site_step_to_loop", default=dict)

# "r:<response_id>" / "f:<feedback_id>" -> [partition, offset, first seen]: the business ids the
# analysis processed, for as long as the long window (processors/dedupe.py), each written to the
# changelog partition of the input that carried it. Written and expired only through `remember`
# and `forget`.
seen_ids = app.Table("seen_ids")


_encode = json.JSONEncoder(separators=(",", ":")).encode  # built once: json.dumps(separators=...) builds one per call


def _json(value: object) -> bytes:
    return _encode(value).encode()


def first_seen_of(key: str) -> FirstSeen | None:
    """seen_ids's entry for `key`: one dict lookup (faust's table API would also feed its sensors)."""
    return seen_ids.data.get(key)


async def remember(key: str, first: FirstSeen, partition: int) -> None:
    """seen_ids[key] = first, changelogged to `partition`, the input's.

    Not `seen_ids[key] = first`: faust would write to the partition of its current event, which in
    a batch taken with `take_events` is the batch's last, maybe of another partition; it would also
    queue the write in its producer buffer, which the consumer waits to see below 100 messages
    before it hands any stream its next message (a batch of a thousand new ids held every agent
    back), and pass it through its codec registry and sensors. Here the JSON faust's recovery reads
    goes straight to the Kafka producer's batches, which faust flushes before it commits offsets.
    (With the memory store the table's data is a dict; a store that picks its partition from the
    current event, such as RocksDB, would need the event set instead.)"""
    seen_ids.data[key] = first
    await app.producer.send(seen_ids.changelog_topic.get_topic_name(), _json(key), _json(first), partition, None, None)


async def forget(key: str, partition: int, tombstone: bool) -> None:
    """Drop an id from this worker's memory; with `tombstone` (the worker owns its partition) from
    the changelog too, so that it is not recovered."""
    seen_ids.data.pop(key, None)
    # faust's memory store also notes the partition of each key it recovered (a private dict it
    # prunes only when a later recovery reads the tombstone): drop that too, or it would outlive the id.
    getattr(seen_ids.data, "_key_partition", {}).pop(key, None)
    if tombstone:
        await app.producer.send(seen_ids.changelog_topic.get_topic_name(), _json(key), None, partition, None, None)


def owned_partitions() -> set[int]:
    """The partitions of seen_ids's changelog this worker owns (not those it keeps as a standby)."""
    name = seen_ids.changelog_topic.get_topic_name()
    return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == name}
