"""The whole domain pipeline, without Kafka, on the demo's default scenario."""

from processors.pipeline import (
    PipelineConfig,
    Sightings,
    evaluate,
    observe_staff_feedback,
    observe_survey_response,
)
from processors.taxonomy import load_taxonomy
from processors.windows import JourneyTally, WindowSpec
from tools.simulate import SCENARIO, simulate

CONFIG = PipelineConfig(load_taxonomy(), (WindowSpec("live", 3600, 300), WindowSpec("long", 30 * 86400, 86400)))
EXPECTED = {
    ("home_delivery", "store_visit"): "win_win",
    ("home_delivery", "purchase"): "lucky_break",
    ("home_delivery", "delivery"): "pain",
    ("home_delivery", "assembly"): "wrong_fight",
    ("home_delivery", "delivery_booking"): "blindness",
    ("home_delivery", "pickup"): "dead_end",
    ("click_collect", "online_order"): "win_win",
    ("click_collect", "ready_notice"): "lucky_break",
    ("click_collect", "pickup"): "dead_end",
}


def run_scenario(seed: int, count: int) -> dict[tuple[str, str, str], dict]:
    sightings: Sightings = {}
    for i, event in enumerate(simulate(seed, start=1_790_000_000, count=count, rate=5)):
        observe = observe_survey_response if event.kind == "survey" else observe_staff_feedback
        observe(event.record, CONFIG, sightings, ("sim:0", i))
    states = {}
    for journey_id, seen in sightings.items():
        tally = JourneyTally()
        tally.apply(CONFIG.windows, seen, CONFIG.taxonomy.thresholds.evidence_ids)
        for state in evaluate(journey_id, tally, CONFIG, now=0)[0]:
            states[(journey_id, state["step_id"], state["window"])] = state
    return states


def test_the_default_scenario_shows_all_six_types() -> None:
    assert set(EXPECTED) == set(SCENARIO)
    for seed in (1, 2, 3):
        states = run_scenario(seed, count=600)
        found = {key: states[(*key, "live")]["mirror_type"] for key in EXPECTED}
        assert found == EXPECTED, f"seed {seed}"


def test_a_pilot_starts_with_insufficient_data() -> None:
    states = run_scenario(seed=1, count=12)
    assert all(s["mirror_type"] in ("insufficient_data", "neutral") for s in states.values())


def test_mirror_states_fit_their_schema() -> None:
    from schemas import codec_for

    codec = codec_for("MirrorState")
    for state in run_scenario(seed=4, count=200).values():
        assert codec.decode(codec.encode(state)) == {"schema_version": 1, **state}


def test_counters_count_each_input_once() -> None:
    from processors.pipeline import count_once

    marks: dict[str, list[list[int]]] = {}
    batch = [["s:0", 0, ["in", "processed"]], ["s:0", 1, ["in", "dead:empty_verbatim"]], ["s:1", 0, ["in"]]]
    assert count_once(batch, marks) == {"in": 3, "processed": 1, "dead:empty_verbatim": 1}
    redelivered = [*batch[1:], ["s:0", 2, ["in", "processed"]]]
    assert count_once(redelivered, marks) == {"in": 1, "processed": 1}
    assert marks == {"s:0": [[0, 3]], "s:1": [[0, 1]]}
    reread_after_a_seek = [["s:1", 3, ["in"]], ["s:1", 1, ["in"]], ["s:1", 2, ["in"]], ["s:1", 3, ["in"]]]
    assert count_once(reread_after_a_seek, marks) == {"in": 3} and marks["s:1"] == [[0, 4]]


def test_counts_and_marks_move_together_so_a_replayed_batch_adds_nothing() -> None:
    from processors.pipeline import add_inputs

    batch = [["s:0", 0, ["in", "processed"]], ["s:0", 1, ["in", "dead:undecodable"]]]
    once = add_inputs({}, batch)
    assert once == {"counts": {"in": 2, "processed": 1, "dead:undecodable": 1}, "counted": {"s:0": [[0, 2]]}}
    assert add_inputs(once, batch) == once  # redelivered after a crash: the one value says it was counted
    later = add_inputs(once, [*batch, ["s:0", 2, ["in", "processed"]]])
    assert later["counts"] == {"in": 3, "processed": 2, "dead:undecodable": 1}
    assert once["counts"]["in"] == 2  # the previous value is left as it was (a table value, not shared state)


def test_observing_weighs_mentions_with_the_taxonomy_s_states_section() -> None:
    from dataclasses import replace

    from pytest import approx

    from tests.examples import EXAMPLES

    response = {**EXAMPLES["SurveyResponse"], "verbatim": "Rien à dire.", "score": 10}  # delivery: its point only
    story = {**EXAMPLES["StaffFeedback"], "verbatim": "Le retrait était prêt.", "journey_id": "click_collect"}
    seen: Sightings = {}
    observe_survey_response(response, CONFIG, seen, ("s:0", 0))
    observe_staff_feedback(story, CONFIG, seen, ("f:0", 0))
    states = replace(CONFIG.taxonomy.states, uncued_clause_weight=1.0, staff_clause_weight=1.0)
    other = PipelineConfig(replace(CONFIG.taxonomy, states=states), CONFIG.windows)
    observe_survey_response(response, other, seen, ("s:0", 1))
    observe_staff_feedback(story, other, seen, ("f:0", 1))
    (customer, customer_after), (staff, staff_after) = seen["home_delivery"], seen["click_collect"]
    # Now the text alone: before, the score (NPS 10 -> 1) took half, and the prompt's prior (-0.5) 0.4.
    assert customer["steps"]["delivery"] == approx(0.5 * customer_after["steps"]["delivery"] + 0.5 * 1.0)
    assert staff["steps"]["pickup"] == approx(0.6 * staff_after["steps"]["pickup"] + 0.4 * -0.5)


def test_a_staff_story_counts_on_the_step_picked_as_a_survey_on_its_point() -> None:
    from tests.examples import EXAMPLES

    silent = "Une journée ordinaire, rien de particulier à raconter."  # names no step
    story = {**EXAMPLES["StaffFeedback"], "verbatim": silent, "journey_id": "home_delivery"}
    seen: Sightings = {}
    unpicked = observe_staff_feedback(story, CONFIG, seen, ("f:0", 0))
    picked = observe_staff_feedback({**story, "step_id": "assembly"}, CONFIG, seen, ("f:0", 1))
    named = {**story, "verbatim": "Le retrait était prêt.", "step_id": "assembly"}  # the text's step too
    observe_staff_feedback(named, CONFIG, seen, ("f:0", 2))
    response = {**EXAMPLES["SurveyResponse"], "verbatim": silent, "step_id": "assembly"}
    observe_survey_response(response, CONFIG, seen, ("s:0", 0))

    nothing, on_assembly, both, customer = seen["home_delivery"]
    assert not unpicked.tagged and nothing["steps"] == {}
    assert picked.tagged and set(on_assembly["steps"]) == {"assembly"} == set(customer["steps"])
    assert on_assembly["side"] == "staff" and on_assembly["texts"] == {"assembly": silent}  # the whole story
    assert on_assembly["steps"]["assembly"] < 0  # a most-frustrating story leans negative
    assert set(both["steps"]) == {"pickup", "assembly"}
