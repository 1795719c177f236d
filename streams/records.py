"""Typed records of the worker's internal topics (the public ones are the Avro schemas)."""

from __future__ import annotations

from typing import Any

import faust

# Bump when a field changes meaning; update_mirror refuses versions it does not know,
# so a worker of an older release in the group stops with a clear error instead of
# miscounting what a newer one sent.
# 2: `forget` (an erasure); 3: staff sightings carry their site and teller (the min_staff threshold).
# Older deltas still read: as forgetting nothing, and as stories of unknown tellers.
JOURNEY_DELTA_VERSION = 3


class JourneyDelta(faust.Record, serializer="json"):
    """What one analysed batch did to one journey (keyed by journey id), or, under
    `streams.topics.COUNTERS_KEY`, what became of each of the batch's inputs."""

    version: int
    # processors.pipeline.Sighting dicts: the verbatims the batch saw of this journey.
    sightings: list[dict[str, Any]]
    # "topic:partition" -> offset ranges the batch read (whatever journey they were of).
    read: dict[str, list[list[int]]]
    # Kafka timestamps (seconds) of the journey's inputs, for the produce -> mirror latency.
    produced_at: list[float]
    # Counters message only: [source, offset, [counter names]] per input.
    inputs: list[list[Any]]
    # An erasure only: the subject keys (processors/privacy.py) whose evidence the journey forgets.
    forget: list[str] | None = None

    @classmethod
    def of_journey(
        cls, sightings: list[Any], read: dict[str, list[list[int]]], produced_at: list[float]
    ) -> JourneyDelta:
        return cls(JOURNEY_DELTA_VERSION, sightings, read, produced_at, [])

    @classmethod
    def of_counters(cls, inputs: list[list[Any]]) -> JourneyDelta:
        return cls(JOURNEY_DELTA_VERSION, [], {}, [], inputs)

    @classmethod
    def of_forget(cls, subjects: list[str]) -> JourneyDelta:
        return cls(JOURNEY_DELTA_VERSION, [], {}, [], [], subjects)
