"""Counted offsets as ranges: each offset counted once, whatever order it comes in."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from processors.offsets import add, as_ranges


def test_the_usual_stream_stays_one_range() -> None:
    ranges: list[list[int]] = []
    assert all(add(ranges, offset) for offset in range(1000))
    assert ranges == [[0, 1000]] and not add(ranges, 999)


def test_a_gap_stays_visible_until_filled() -> None:
    ranges: list[list[int]] = []
    for offset in (*range(5), *range(8, 10)):
        add(ranges, offset)
    assert ranges == [[0, 5], [8, 10]]
    assert add(ranges, 6) and ranges == [[0, 5], [6, 7], [8, 10]]
    assert add(ranges, 5) and add(ranges, 7) and ranges == [[0, 10]]


def test_an_older_high_water_mark_reads_as_everything_below_it() -> None:
    assert as_ranges(6) == [[0, 6]] and as_ranges(0) == [] and as_ranges([[2, 4]]) == [[2, 4]]


@given(st.lists(st.integers(min_value=0, max_value=60), max_size=200))
def test_each_offset_is_new_exactly_once_and_ranges_stay_sorted_and_disjoint(offsets: list[int]) -> None:
    ranges: list[list[int]] = []
    seen: set[int] = set()
    for offset in offsets:
        assert add(ranges, offset) == (offset not in seen)
        seen.add(offset)
    assert {o for start, end in ranges for o in range(start, end)} == seen
    assert all(a[1] < b[0] for a, b in itertools.pairwise(ranges))  # disjoint, not even touching
