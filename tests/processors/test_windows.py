from processors.windows import JourneyTally, WindowSpec

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
    assert tally.untagged == {"customer": 1}


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


def test_merging_deltas_equals_observing_everything_in_one_tally() -> None:
    observations = [("customer", T0 + i * 100, {"delivery": (-1) ** i * 0.3}) for i in range(40)]
    whole = tally_of(observations)
    merged = JourneyTally()
    for start in range(0, 40, 7):
        delta = JourneyTally()
        for i, (side, at, steps) in enumerate(observations[start : start + 7], start):
            delta.observe(WINDOWS, side, at, f"id-{i}", steps, evidence_ids=3)
        merged.merge(JourneyTally.from_dict(delta.to_dict()), evidence_ids=3)
    for window in WINDOWS:
        a, b = merged.view(window, "customer", "delivery"), whole.view(window, "customer", "delivery")
        assert (a.n, a.total) == (b.n, b.total)
        assert abs(a.pos_sum - b.pos_sum) < 1e-9 and abs(a.neg_sum - b.neg_sum) < 1e-9
    assert merged.watermark == whole.watermark
    assert [i for i, _ in merged.evidence["customer|delivery"]] == ["id-37", "id-38", "id-39"]


def test_a_tally_survives_its_json_form() -> None:
    import json

    tally = tally_of([("staff", T0, {"assembly": 0.7})])
    tally.classified["live|assembly"] = {"mirror_type": "neutral"}
    assert JourneyTally.from_dict(json.loads(json.dumps(tally.to_dict()))) == tally
