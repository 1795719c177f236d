"""Which input offsets of a partition have been counted: sorted, disjoint [start, end) ranges.

At-least-once delivery hands an input over again after a crash, and around a
rebalance one batch can hold inputs read again after a seek behind inputs read
before it. A high-water mark ("the next offset not yet counted") would take the
later ones for proof that the earlier ones were counted, and skip them: counts
lost. Ranges know exactly what was counted. In the usual case a partition's
ranges stay a single range; a gap that lasts is an input never counted, in sight.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

Ranges = list[list[int]]


def add(ranges: Ranges, offset: int) -> bool:
    """Mark `offset` counted (in place); False when it already was."""
    if ranges and ranges[-1][1] == offset:  # the usual case: the next offset of the partition
        ranges[-1][1] += 1
        return True
    i = bisect_right([start for start, _ in ranges], offset)  # ranges[i - 1] starts at or before it
    if i and offset < ranges[i - 1][1]:
        return False
    joins_left = bool(i) and ranges[i - 1][1] == offset
    joins_right = i < len(ranges) and ranges[i][0] == offset + 1
    if joins_left and joins_right:
        ranges[i - 1][1] = ranges.pop(i)[1]
    elif joins_left:
        ranges[i - 1][1] += 1
    elif joins_right:
        ranges[i][0] = offset
    else:
        ranges.insert(i, [offset, offset + 1])
    return True


def add_all(ranges: Ranges, other: Ranges) -> None:
    """Mark every offset of `other` counted (in place)."""
    for start, end in other:
        for offset in range(start, end):
            add(ranges, offset)


def as_ranges(value: Any) -> Ranges:
    """Ranges from a stored value; an int is an older high-water mark: everything below it."""
    if isinstance(value, int):
        return [[0, value]] if value else []
    return [list(pair) for pair in value]
