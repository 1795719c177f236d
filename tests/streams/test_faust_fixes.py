"""The consumer bookkeeping fixes (streams/faust_fixes.py), on faust's own Consumer methods.

The Consumer here is faust's, built without its service start (no broker): only the fields its
offset bookkeeping reads are set. The fixes as a whole are exercised against Kafka by the chaos
scenarios (tests/e2e/test_chaos.py: a worker of two killed, SIGKILLs)."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from faust.types import TP
from intervaltree import IntervalTree

from streams import faust_fixes

TP0 = TP("inputs", 0)


def bookkeeping(committed: int | None, acked: list[int]) -> Any:
    state: Any = SimpleNamespace(
        _acked=defaultdict(list, {TP0: list(acked)}),
        _acked_index=defaultdict(set, {TP0: set(acked)}),
        _committed_offset=defaultdict(lambda: None, {TP0: committed}),
        _gap=defaultdict(IntervalTree),
    )
    return state


def test_nothing_is_committed_past_the_message_at_the_committed_offset() -> None:
    # faust itself (its method, as saved before the fix) commits 404 here, over offset 399, which
    # nobody acknowledged (faust#606)
    assert faust_fixes._new_offset(bookkeeping(399, [400, 401, 402, 403]), TP0) == 404
    state = bookkeeping(399, [400, 401, 402, 403])
    assert faust_fixes.commit_from_the_committed_offset_only(state, TP0) is None
    state._acked[TP0].insert(0, 399)  # read again and acknowledged: now all of it
    state._acked_index[TP0].add(399)
    assert faust_fixes.commit_from_the_committed_offset_only(state, TP0) == 404


def test_a_run_from_the_committed_offset_commits_up_to_its_first_hole() -> None:
    assert faust_fixes.commit_from_the_committed_offset_only(bookkeeping(10, [10, 11, 12, 14]), TP0) == 13
    assert faust_fixes.commit_from_the_committed_offset_only(bookkeeping(None, [0, 1, 2]), TP0) == 3


def test_no_read_offset_is_kept_so_no_message_read_again_is_dropped() -> None:
    offsets = faust_fixes._NoReadOffsets()
    offsets[TP0] = 450  # what faust sets after handing out a batch fetched before a seek
    offsets.update({TP0: 399})  # what its seek sets
    assert offsets[TP0] is None  # so offset 399, read again, is not "below the read offset"
