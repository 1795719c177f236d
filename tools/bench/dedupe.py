"""Memory per remembered business id: what `seen_ids` holds for each input processed in the long window.

Measured in this process on what a worker keeps with faust's memory store (`memory://`): a dict
from "r:<response_id>" to [partition, offset, first seen], built with the pipeline's own functions
(processors/dedupe.py). tracemalloc counts every byte Python allocates for them, the dict's slots
included. An id recovered from the changelog after a restart costs one more slot: the memory store
notes each recovered key's partition in a dict of its own. The changelog figure is the JSON key and
value faust writes per id (Kafka's per-record overhead, a few dozen bytes before compression, comes
on top). A worker holds the ids first seen within the long window: ids per day x 30 days x this figure.
"""

from __future__ import annotations

import json
import time
import tracemalloc
import uuid
from typing import Any

from processors.dedupe import business_id, first_seen

PARTITIONS = 4
FIRST_OFFSET = 1_000_000  # offsets of a topic that has lived a while: ints of their own, as in a worker


def _table_bytes(ids: list[str], now: float, recovered: bool = False) -> float:
    """Bytes per entry of a seen_ids-like dict holding `ids` (`recovered`: as read back after a restart)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        table: dict[str, list[int]] = {}
        key_partition: dict[str, int] = {}
        for i, response_id in enumerate(ids):
            known = business_id({"response_id": response_id})
            assert known is not None
            table[known[0]] = first_seen(i % PARTITIONS, FIRST_OFFSET + i // PARTITIONS, now)
            if recovered:
                key_partition[known[0]] = i % PARTITIONS
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return grown / len(ids)


def remembered_id_bytes(count: int) -> dict[str, Any]:
    """Bytes per remembered id in memory, for the synthetic pilot's ids and for UUIDs, and in the changelog."""
    now = time.time()
    pilot = [f"sim-r-{i}" for i in range(count)]
    uuids = [str(uuid.uuid4()) for _ in range(count)]
    sample = business_id({"response_id": uuids[0]})
    assert sample is not None
    compact = json.JSONEncoder(separators=(",", ":")).encode  # as streams/tables.py writes them
    changelog = len(compact(sample[0])) + len(compact(first_seen(PARTITIONS - 1, FIRST_OFFSET + count, now)))
    return {
        "ids": count,
        "memory_bytes_per_id": round(_table_bytes(pilot, now), 1),
        "memory_bytes_per_uuid_id": round(_table_bytes(uuids, now), 1),
        "memory_bytes_per_recovered_uuid_id": round(_table_bytes(uuids, now, recovered=True), 1),
        "changelog_bytes_per_uuid_id": changelog,
    }
