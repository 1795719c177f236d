"""Counted once by business id: the decision (new, redelivered, duplicate) and the expiry."""

from __future__ import annotations

from processors.dedupe import (
    Verdict,
    business_id,
    expired,
    first_seen,
    keyed_by_id,
    stale,
    verdict,
)

DAY = 86400.0
KEEP = 30 * DAY
NOW = 1_795_000_000.0


def test_an_id_never_processed_is_new_and_is_remembered_with_where_and_when_it_was_read() -> None:
    assert verdict(None, 2, 17) is Verdict.NEW
    assert first_seen(2, 17, NOW + 0.7) == [2, 17, int(NOW)]


def test_the_same_message_read_again_is_a_redelivery_not_a_duplicate() -> None:
    first = first_seen(2, 17, NOW)
    assert verdict(first, 2, 17) is Verdict.REDELIVERED  # at-least-once after a crash: same partition, offset


def test_another_message_with_an_id_already_processed_is_a_duplicate() -> None:
    first = first_seen(2, 17, NOW)
    assert verdict(first, 2, 18) is Verdict.DUPLICATE  # resent later: same partition (keyed by id), new offset
    assert verdict(first, 2, 3) is Verdict.DUPLICATE  # an earlier copy read after it (rejected the first time)
    assert verdict(first, 0, 17) is Verdict.DUPLICATE  # not keyed by id: same offset on another partition


def test_the_decision_reads_entries_as_their_changelog_gives_them_back() -> None:
    import json

    first = json.loads(json.dumps(first_seen(1, 5, NOW)))  # recovered after a restart
    assert verdict(first, 1, 5) is Verdict.REDELIVERED and verdict(first, 1, 6) is Verdict.DUPLICATE


def test_responses_and_staff_stories_have_keys_of_their_own() -> None:
    assert business_id({"response_id": "x-1", "verbatim": "..."}) == ("r:x-1", "x-1")
    assert business_id({"feedback_id": "x-1", "verbatim": "..."}) == ("f:x-1", "x-1")
    assert business_id({"response_id": "", "verbatim": "..."}) is None  # no id: nothing to remember


def test_ids_expire_by_first_seen_time_after_the_long_window_whatever_their_event_time() -> None:
    first = first_seen(0, 1, NOW)
    assert not expired(first, NOW + KEEP, KEEP)  # remembered at least the long window
    assert expired(first, NOW + KEEP + 1, KEEP)


def test_a_sweep_names_the_expired_entries_with_their_partition_and_skips_vanished_ones() -> None:
    entries = [
        ("r:old", first_seen(3, 10, NOW - KEEP - 60)),
        ("r:recent", first_seen(1, 11, NOW - DAY)),
        ("f:old", first_seen(0, 12, NOW - 2 * KEEP)),
        ("r:gone", None),  # deleted between the sweep's snapshot of the keys and its look
    ]
    assert stale(entries, NOW, KEEP) == [("r:old", 3), ("f:old", 0)]
    assert stale([], NOW, KEEP) == []


def test_an_input_is_keyed_by_its_id_only_when_its_kafka_key_is_exactly_the_id() -> None:
    assert keyed_by_id(b"r-1", "r-1") and keyed_by_id("r-1", "r-1")
    assert keyed_by_id("é-1".encode(), "é-1")
    assert not keyed_by_id(None, "r-1")
    assert not keyed_by_id(b"42", "r-1")  # keyed by something else: a row number, a site
    assert not keyed_by_id(b"\xff\xfe", "r-1")  # not even text
