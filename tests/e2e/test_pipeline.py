"""The real pipeline: real Kafka, a real faust worker process, a seeded pilot."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from rich.console import Console

from config.settings import Settings
from schemas import codec_for
from tests.integration.kafka_io import consume_all
from tests.processors.test_pipeline import EXPECTED
from tools.demo import DemoOptions, stream_pilot, wait_until_processed
from tools.producer import RecordProducer
from tools.readout import summary
from tools.workers import pilot_worker


def test_a_seeded_pilot_gives_the_expected_mirror_and_counts_reconcile(stack: Settings) -> None:
    marker = uuid.uuid4().hex
    survey = codec_for("SurveyResponse")
    good = {
        "response_id": f"bad-{marker}",
        "customer_ref": "c",
        "journey_id": "home_delivery",
        "score": 5,
        "score_scale": "NPS",
        "verbatim": f"ok {marker}",
        "site": "lyon",
        "event_time": datetime.now(UTC),
    }
    invalid = {
        "undecodable": marker.encode(),
        "score_out_of_range": survey.encode({**good, "score": 11}),
        "unknown_journey": survey.encode({**good, "journey_id": "moon"}),
        "empty_verbatim": survey.encode({**good, "verbatim": ""}),
    }
    started = datetime.now(UTC)
    with pilot_worker(stack, Console(quiet=True)) as url:
        sent = stream_pilot(stack, DemoOptions(600, 11, 300.0, 0.0, True, None), lambda n: None)
        with RecordProducer(stack) as producer:
            for value in invalid.values():
                producer.send_raw(producer.topics.survey_responses, value)
        mirror = wait_until_processed(url, sent + len(invalid), timeout=180)

    result = summary(mirror["states"], mirror["counters"])
    found = {(j, s): result["journeys"][j][s]["mirror_type"] for j, s in EXPECTED}
    assert found == EXPECTED
    totals = result["totals"]
    assert totals["in"] == sent + len(invalid), totals
    assert totals["in"] == totals["processed"] + totals["dead_lettered"]
    assert totals["dead_letters_by_reason"] == {reason: 1 for reason in invalid}

    alerts = [codec_for("StepAlert").decode(m.value) for m in consume_all(stack, stack.pipeline.topics.step_alerts)]
    entered = {
        (a["journey_id"], a["step_id"], a["mirror_type"])
        for a in alerts
        if a["at"] >= started and a["kind"] == "entered" and a["window"] == "live"
    }
    assert {
        ("home_delivery", "pickup", "dead_end"),
        ("home_delivery", "delivery_booking", "blindness"),
        ("home_delivery", "assembly", "wrong_fight"),
    } <= entered
    states = [codec_for("MirrorState").decode(m.value) for m in consume_all(stack, stack.pipeline.topics.mirror_states)]
    ours = [s for s in states if s["computed_at"] >= started and s["step_id"] == "pickup"]
    assert ours and all(len(s["evidence_ids"]) <= 10 for s in ours)
    assert any(s["mirror_type"] == "dead_end" and s["customer"]["n"] >= 5 for s in ours)

    letters = [codec_for("DeadLetter").decode(m.value) for m in consume_all(stack, stack.pipeline.topics.dead_letters)]
    by_reason = {d["reason"]: d for d in letters if marker.encode() in d["original"]}
    assert set(by_reason) == set(invalid)
    assert by_reason["undecodable"]["original"] == marker.encode()
    assert "score 11 not in 0..10" in by_reason["score_out_of_range"]["detail"]
