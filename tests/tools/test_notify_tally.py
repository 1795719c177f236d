"""The notification bench's and chaos's exact count, by delivery id (tools/bench/notify_rig.py)."""

from __future__ import annotations

from tools.bench.notify_rig import EMAIL, JSON
from tools.bench.notify_tally import tally


def test_each_expected_delivery_once_and_copies_split_by_whether_a_fault_came_between() -> None:
    expected = {"nd-a": ("cb-1", EMAIL), "nd-b": ("cb-1", JSON), "nd-c": ("cb-2", EMAIL), "nd-d": ("cb-2", JSON)}
    arrivals = [
        ("nd-a", EMAIL, 1.0),
        ("nd-a", EMAIL, 40.0),  # again after the kill at 5.0: the documented window
        ("nd-b", JSON, 2.0),
        ("nd-b", JSON, 3.0),  # again with no fault between: a duplicate
        ("nd-c", EMAIL, 6.0),  # written by the notifier before the kill, taken by the server after it...
        ("nd-c", EMAIL, 30.0),  # ...and sent again after the lease: still the window
        ("nd-x", JSON, 7.0),  # nobody expected this id
    ]
    counts = tally(expected, arrivals, faults_at=(5.0,))
    assert counts["deliveries_expected"] == 4 and counts["distinct_delivery_ids"] == 3
    assert counts["missing"] == 1 and counts["unexpected_ids"] == 1  # nd-d never came; nd-x
    assert counts["redelivered_same_id"] == 3
    assert (counts["redelivered_in_fault_window"], counts["duplicates_outside_window"]) == (2, 1)
    assert (counts["emails_expected"], counts["emails_received"]) == (2, 4)
    assert (counts["webhooks_expected"], counts["webhooks_received"]) == (2, 3)


def test_nothing_received_is_all_missing_and_no_copy() -> None:
    counts = tally({"nd-a": ("cb-1", EMAIL)}, [])
    assert (counts["missing"], counts["distinct_delivery_ids"], counts["redelivered_same_id"]) == (1, 0, 0)


def test_a_copy_after_a_send_the_notifier_saw_fail_is_explained_once_per_failure() -> None:
    expected = {"nd-a": ("cb-1", EMAIL), "nd-b": ("cb-1", JSON)}
    arrivals = [
        ("nd-a", EMAIL, 10.0),  # taken by a slow server, whose answer came after the notifier's timeout...
        ("nd-a", EMAIL, 12.0),  # ...so sent again: the notifier recorded one failed send
        ("nd-a", EMAIL, 13.0),  # a third copy one failure does not explain
        ("nd-b", JSON, 10.0),
        ("nd-b", JSON, 11.0),  # no failure recorded for nd-b: a duplicate
    ]
    counts = tally(expected, arrivals, failed_sends={"nd-a": 1})
    assert counts["redelivered_same_id"] == 3
    assert counts["redelivered_after_failed_send"] == 1 and counts["redelivered_in_fault_window"] == 0
    assert counts["duplicates_outside_window"] == 2
