from processors.windows import JourneyTally, Sighting, WindowSpec

LIVE = WindowSpec("live", size=3600, step=300)
LONG = WindowSpec("long", size=30 * 86400, step=86400)
WINDOWS = (LIVE, LONG)
T0 = 1_790_000_000.0


def tally_of(observations: list[tuple[str, float, dict[str, float]]]) -> JourneyTally:
    tally = JourneyTally()
    for i, (side, at, steps) in enumerate(observations):
        tally.observe(WINDOWS, side, at, f"id-{i}", steps, evidence_ids=3)
    return tally


def test_views_sum_counts_and_impacts_over_the_window() -> None:
    tally = tally_of(
        [
            ("customer", T0, {"delivery": 0.8}),
            ("customer", T0 + 60, {"delivery": -0.4}),
            ("customer", T0 + 120, {}),
            ("staff", T0, {"delivery": -0.6}),
        ]
    )
    view = tally.view(LIVE, "customer", "delivery")
    assert (view.n, view.total) == (2, 3)
    assert view.share == 2 / 3
    assert view.positive_impact == 0.4 and view.negative_impact == -0.2
    assert abs(view.net_impact - 0.2) < 1e-9
    assert tally.view(LIVE, "staff", "delivery").net_impact == -0.6
    assert tally.view(LIVE, "customer", "pickup").total == 3  # the untagged verbatim counts in the shares


def test_old_buckets_leave_the_live_window_but_stay_in_the_long_one() -> None:
    tally = tally_of([("customer", T0, {"pickup": -0.5}), ("customer", T0 + 2 * 3600, {"pickup": 0.5})])
    assert tally.view(LIVE, "customer", "pickup").n == 1
    assert tally.view(LONG, "customer", "pickup").n == 2
    tally.expire(WINDOWS)
    assert len(tally.buckets["live"]) == 1 and len(tally.buckets["long"]) >= 1


def test_expiry_keeps_memory_flat_on_an_endless_stream() -> None:
    tally = JourneyTally()
    for hour in range(24 * 60):
        tally.observe(WINDOWS, "customer", T0 + hour * 3600, f"r{hour}", {"delivery": 0.1}, 3)
        tally.expire(WINDOWS)
    assert len(tally.buckets["live"]) <= 13 and len(tally.buckets["long"]) <= 31


def sighting(i: int, source: str = "inputs:0") -> Sighting:
    return {
        "source": source,
        "offset": i,
        "side": "customer",
        "at": T0 + i * 100,
        "id": f"id-{i}",
        "steps": {"delivery": (-1) ** i * 0.3},
        "texts": {"delivery": f"verbatim {i}"},
    }


def test_a_sighting_is_counted_once_however_often_it_is_delivered() -> None:
    once, again = JourneyTally(), JourneyTally()
    assert once.apply(WINDOWS, [sighting(i) for i in range(40)], evidence_ids=3) == 40
    for start in range(0, 40, 7):  # in batches, each batch delivered twice, and the first one last again
        batch = [sighting(i) for i in range(start, min(start + 10, 40))]
        again.apply(WINDOWS, batch, evidence_ids=3)
        again.apply(WINDOWS, batch, evidence_ids=3)
    assert again.apply(WINDOWS, [sighting(i) for i in range(10)], evidence_ids=3) == 0
    for window in WINDOWS:
        a, b = again.view(window, "customer", "delivery"), once.view(window, "customer", "delivery")
        assert (a.n, a.total) == (b.n, b.total)
        assert abs(a.pos_sum - b.pos_sum) < 1e-9 and abs(a.neg_sum - b.neg_sum) < 1e-9
    assert again.view(LONG, "customer", "delivery").n == 40
    assert again.evidence["customer|delivery"] == [
        ["id-37", "verbatim 37"],
        ["id-38", "verbatim 38"],
        ["id-39", "verbatim 39"],
    ]


def test_offsets_are_tracked_per_partition() -> None:
    tally = JourneyTally()
    tally.apply(WINDOWS, [sighting(5, "inputs:0")], evidence_ids=3)
    assert tally.apply(WINDOWS, [sighting(2, "inputs:1")], evidence_ids=3) == 1
    assert tally.applied == {"inputs:0": [[5, 6]], "inputs:1": [[2, 3]]}


def test_inputs_read_again_after_a_seek_behind_later_ones_still_count() -> None:
    """Around a rebalance one batch can hold offsets 6..9 and then 0..9 again (re-read after a seek)."""
    once, mixed = JourneyTally(), JourneyTally()
    once.apply(WINDOWS, [sighting(i) for i in range(10)], evidence_ids=3)
    new = mixed.apply(WINDOWS, [sighting(i) for i in (*range(6, 10), *range(10))], evidence_ids=3)
    assert new == 10 and mixed.view(LONG, "customer", "delivery").n == once.view(LONG, "customer", "delivery").n


def test_a_tally_survives_its_json_form() -> None:
    import json

    tally = tally_of([("staff", T0, {"assembly": 0.7})])
    tally.classified["live|assembly"] = {"mirror_type": "neutral"}
    assert JourneyTally.from_dict(json.loads(json.dumps(tally.to_dict()))) == tally


def test_offsets_of_other_journeys_read_in_the_batch_keep_one_range_per_partition() -> None:
    """Sightings alone would leave a gap for every input of another journey: state growing with the stream."""
    tally = JourneyTally()
    for batch in range(50):
        offsets = range(batch * 10, batch * 10 + 10)
        mine = [sighting(i) for i in offsets if i % 3 == 0]  # a third of the inputs are this journey's
        tally.apply(WINDOWS, mine, evidence_ids=3, read={"inputs:0": [[offsets[0], offsets[-1] + 1]]})
    assert tally.applied == {"inputs:0": [[0, 500]]}
    assert tally.view(LONG, "customer", "delivery").n == len(range(0, 500, 3))
    assert tally.apply(WINDOWS, [sighting(3)], evidence_ids=3) == 0  # read, hence counted: not twice
