"""Rolling windows of step mentions, as fine tumbling buckets summed when read.

An event touches one bucket per window (live and long), so a table write per
event (or per batch) is O(1) whatever the window's length; a hopping window
would write every window the event falls in (30 per event for 30 days by day).
The analysis side sends what it saw of each verbatim (a "sighting", with the
input's partition and offset); the window side applies sightings to the
journey's running tally once each, so a redelivered input is not counted twice.
Time is event time, passed in; a journey's windows end at its latest event.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

from processors.offsets import Ranges, add, add_all, as_ranges


class Sighting(TypedDict):
    """One verbatim as a journey saw it, with its origin, so that the window side counts an
    input once however often it is delivered (see JourneyTally.apply); made by processors.pipeline.observe_*."""

    source: str  # "topic:partition"
    offset: int
    side: str  # "customer" | "staff"
    at: float  # event time, epoch seconds
    id: str  # response_id or feedback_id
    steps: dict[str, float]  # step id -> polarity of its mention
    texts: dict[str, str]  # step id -> redacted clause, as evidence
    subjects: NotRequired[list[str]]  # who a customer's verbatim is about (keyed hashes); absent before 2026-12
    site: NotRequired[str]  # a staff story's site and teller's pseudonym: evidence only from a team big
    staff: NotRequired[str]  # enough that a story cannot point at one person (min_staff)


SIDES = ("customer", "staff")
_TOTAL = "_"  # per-bucket count of the side's verbatims (tagged or not): the denominator of shares


@dataclass(frozen=True)
class WindowSpec:
    name: str
    size: float  # seconds
    step: float  # bucket width, seconds

    def bucket(self, t: float) -> int:
        return int(math.floor(t / self.step) * self.step)

    def buckets_at(self, end: float) -> tuple[int, int]:
        """[first, last] bucket starts inside the window ending at `end`."""
        return self.bucket(end - self.size) + int(self.step), self.bucket(end)


@dataclass(frozen=True)
class SideView:
    """One side of one step over one window."""

    n: int
    total: int
    pos_sum: float
    neg_sum: float

    @property
    def share(self) -> float:
        return self.n / self.total if self.total else 0.0

    @property
    def positive_impact(self) -> float:
        return self.pos_sum / self.n if self.n else 0.0

    @property
    def negative_impact(self) -> float:
        return self.neg_sum / self.n if self.n else 0.0

    @property
    def net_impact(self) -> float:
        return (self.pos_sum + self.neg_sum) / self.n if self.n else 0.0


# bucket layout: {side: {step_id: [n, pos_sum, neg_sum], "_": [verbatims, 0, 0]}}
Bucket = dict[str, dict[str, list[float]]]


@dataclass
class JourneyTally:
    """Counts and polarity sums per window bucket, side and step of one journey."""

    buckets: dict[str, dict[int, Bucket]] = field(default_factory=dict)
    # "side|step" -> the latest [verbatim id, redacted text, *subject keys] behind the step (the
    # keys say who a customer's verbatim is about, for an erasure: processors/privacy.py).
    evidence: dict[str, list[list[str]]] = field(default_factory=dict)
    watermark: float = 0.0
    # Previous classification per "window|step", for hysteresis and alerts.
    classified: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Per input partition ("topic:partition"), the offsets counted (processors.offsets): an
    # input delivered again (at-least-once, after a crash or a rebalance) is not counted twice.
    applied: dict[str, Ranges] = field(default_factory=dict)
    # Site -> the first `min_staff` staff pseudonyms heard there: bounded, and all a threshold needs.
    staff_seen: dict[str, list[str]] = field(default_factory=dict)

    def apply(
        self,
        windows: tuple[WindowSpec, ...],
        sightings: list[Sighting],
        evidence_ids: int,
        read: dict[str, Ranges] | None = None,
        forgotten: set[str] | frozenset[str] = frozenset(),
        min_staff: int = 1,
    ) -> int:
        """Count each sighting (see processors.pipeline) once; returns how many were new.

        `read` is every offset the batch read, this journey's or not: marking them all keeps
        `applied` one range per partition, where the sightings alone would leave a gap for
        every input of another journey (state growing with the stream). A sighting about one of
        `forgotten` (subject keys erased while it was on its way) is counted but kept as no evidence;
        so is a staff story from a site where fewer than `min_staff` people have told one yet."""
        new = 0
        for s in sightings:
            if add(self.applied.setdefault(s["source"], []), s["offset"]):
                subjects = s.get("subjects", [])
                shown = evidence_ids if not forgotten.intersection(subjects) and self._team(s, min_staff) else 0
                self.observe(windows, s["side"], s["at"], s["id"], s["steps"], shown, s["texts"], subjects)
                new += 1
        for source, ranges in (read or {}).items():
            add_all(self.applied.setdefault(source, []), ranges)
        return new

    def observe(
        self,
        windows: tuple[WindowSpec, ...],
        side: str,
        event_time: float,
        verbatim_id: str,
        step_polarities: dict[str, float],
        evidence_ids: int,
        evidence_texts: dict[str, str] | None = None,
        subjects: Iterable[str] = (),
    ) -> None:
        """Count one verbatim of `side`, with the polarity it gives each step it mentions
        and, as evidence, the (already redacted) text that says so."""
        for window in windows:
            bucket = self.buckets.setdefault(window.name, {}).setdefault(window.bucket(event_time), {})
            counts = bucket.setdefault(side, {})
            counts.setdefault(_TOTAL, [0, 0.0, 0.0])[0] += 1
            for step_id, value in step_polarities.items():
                cell = counts.setdefault(step_id, [0, 0.0, 0.0])
                cell[0] += 1
                cell[1 if value > 0 else 2] += value
        for step_id in step_polarities if evidence_ids > 0 else ():
            kept = self.evidence.setdefault(f"{side}|{step_id}", [])
            kept.append([verbatim_id, (evidence_texts or {}).get(step_id, ""), *subjects])
            del kept[:-evidence_ids]
        self.watermark = max(self.watermark, event_time)

    def _team(self, sighting: Sighting, min_staff: int) -> bool:
        """Whether a staff story's site has had at least `min_staff` tellers (counting this one)."""
        if sighting["side"] != "staff" or min_staff <= 1 or "site" not in sighting:
            return True
        seen = self.staff_seen.setdefault(sighting["site"], [])
        if sighting.get("staff") and sighting["staff"] not in seen and len(seen) < min_staff:
            seen.append(sighting["staff"])
        return len(seen) >= min_staff

    def forget(self, subjects: set[str]) -> int:
        """Drop the evidence about any of `subjects` (an erasure); how many entries went. The counts
        stay: they say how many were pleased or not, not who."""
        dropped = 0
        for key, kept in self.evidence.items():
            left = [entry for entry in kept if not subjects.intersection(entry[2:])]
            dropped += len(kept) - len(left)
            self.evidence[key] = left
        return dropped

    def expire(self, windows: tuple[WindowSpec, ...]) -> None:
        """Drop buckets that fell out of their window: memory stays flat on an endless stream."""
        for window in windows:
            first, _ = window.buckets_at(self.watermark)
            buckets = self.buckets.get(window.name, {})
            for start in [s for s in buckets if s < first]:
                del buckets[start]

    def view(self, window: WindowSpec, side: str, step_id: str) -> SideView:
        first, last = window.buckets_at(self.watermark)
        n = total = 0
        pos = neg = 0.0
        for start, bucket in self.buckets.get(window.name, {}).items():
            if first <= start <= last:
                counts = bucket.get(side, {})
                cell = counts.get(step_id)
                if cell:
                    n += int(cell[0])
                    pos += cell[1]
                    neg += cell[2]
                total += int(counts.get(_TOTAL, [0])[0])
        return SideView(n, total, pos, neg)

    def to_dict(self) -> dict[str, Any]:
        return {
            "buckets": {w: {str(s): b for s, b in bs.items()} for w, bs in self.buckets.items()},
            "evidence": self.evidence,
            "watermark": self.watermark,
            "classified": self.classified,
            "applied": self.applied,
            "staff_seen": self.staff_seen,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JourneyTally:
        return cls(
            buckets={w: {int(s): b for s, b in bs.items()} for w, bs in data.get("buckets", {}).items()},
            evidence={k: [list(pair) for pair in v] for k, v in data.get("evidence", {}).items()},
            watermark=float(data.get("watermark", 0.0)),
            classified=dict(data.get("classified", {})),
            applied={source: as_ranges(v) for source, v in data.get("applied", {}).items()},
            staff_seen={site: list(seen) for site, seen in data.get("staff_seen", {}).items()},
        )
