"""Counted once by business id: a response or staff story sent again with the same id changes nothing.

Each input the analysis processes leaves its id in a changelogged table (`streams.tables.seen_ids`)
with where it was first read and when: `[partition, offset, first seen]`. A later input with that
id is a *duplicate* (a retried webhook, a second import, a producer's retry): counted under
`duplicate`, never sighted, no callback. The *same message* read again (same partition and offset:
at-least-once after a crash or a rebalance) is not a duplicate but a redelivery: processed as the
first time, the windows and counters absorb it by offset. Only processed inputs are remembered: a
rejected one changed nothing, so a corrected copy with its id counts.

Ids expire by *first-seen* time (the worker's clock), `keep` seconds (the long window) after the
first copy was processed: a retry or a second import comes in wall-clock time after the first,
whatever its event time, and exports from years back are valid inputs (expiring by event time
would forget their ids at once, and a replayed export would count twice). Memory is bounded by the
ids first seen within `keep`, whatever the event times say.

The table is keyed by id and its changelog written to the partition the input was read from, so
an id must always land on the same input partition: producers key inputs by their business id
(`response_id`, `feedback_id`). An input keyed otherwise is still deduplicated against the ids its
worker holds (always those of its own partition) and counted under `unkeyed`, so it shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

# Counter names the analysis gives an input besides "in" (see processors.pipeline.add_inputs).
DUPLICATE = "duplicate"  # in = processed + dead-lettered + duplicate
UNKEYED = "unkeyed"  # of the processed and duplicates: Kafka key not the business id

# [partition, offset, first seen (epoch seconds)]: a table value, JSON in its changelog.
FirstSeen = list[int]

# The business id of each input kind, and the prefix of its key in the one table both share
# (a response and a staff story may carry the same id).
ID_FIELDS = {"response_id": "r", "feedback_id": "f"}


class Verdict(Enum):
    NEW = "new"  # never processed: process it, remember its id
    REDELIVERED = "redelivered"  # the first copy itself, read again: process it again
    DUPLICATE = "duplicate"  # another copy of an id processed already: count it, nothing else


def business_id(record: Mapping[str, Any]) -> tuple[str, str] | None:
    """(table key, id) of a decoded input; None when it carries no id (its checks will say why)."""
    for field, prefix in ID_FIELDS.items():
        value = record.get(field)
        if value:
            return f"{prefix}:{value}", str(value)
    return None


def verdict(first: FirstSeen | None, partition: int, offset: int) -> Verdict:
    """What an input read at `partition`/`offset` is, given what its id's entry says (None: none)."""
    if first is None:
        return Verdict.NEW
    if first[0] == partition and first[1] == offset:
        return Verdict.REDELIVERED
    return Verdict.DUPLICATE


def first_seen(partition: int, offset: int, now: float) -> FirstSeen:
    """The entry to remember for an input processed for the first time."""
    return [partition, offset, int(now)]


def expired(first: FirstSeen, now: float, keep: float) -> bool:
    """Whether an id first seen then may be forgotten: more than `keep` seconds ago."""
    return first[2] + keep < now


def stale(entries: Iterable[tuple[str, FirstSeen | None]], now: float, keep: float) -> list[tuple[str, int]]:
    """(key, partition) of the entries to forget; None values (gone meanwhile) are skipped."""
    return [(key, first[0]) for key, first in entries if first is not None and expired(first, now, keep)]


def keyed_by_id(key: bytes | str | None, record_id: str) -> bool:
    """Whether the Kafka key of an input is its business id (what puts every copy on one partition)."""
    if isinstance(key, bytes):
        return key == record_id.encode()
    return key == record_id
