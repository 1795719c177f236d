"""The faust agents, run through faust's testing API (`agent.test_context()`): no Kafka, no network.

`test_context()` swaps the agent's source topic for an in-memory channel, so `put()` hands the
agent an event (topic name, partition 0, offsets 0, 1, ... as a consumer would) without a broker.
What the agents *send* still goes through faust's real `Topic.send`: key and value serialized by
the topic's codec (Avro, or JSON for the internal JourneyDelta), then given to `app.producer`.
faust's test wrapper leaves that producer alone (a real one would dial Kafka), so these tests put
a recording producer in its place: it keeps the bytes each send would have written, and tables'
changelog writes (`send_soon`). Tables are faust's in-memory store (`memory://`), emptied per test.

`put()` returns as soon as the agent's stream has taken the value, before the agent is done with
it (the analysis agents even wait for a batch to fill or time out): tests wait for what the agent
sends, or put one more value behind the ones they check, since an agent takes its values in order.
The same agents run against the real Kafka in tests/e2e.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from faust.stores.memory import Store as MemoryStore
from faust.types import TP, FutureMessage, RecordMetadata

from config.settings import settings
from processors.config import pipeline_config
from schemas import codec_for
from streams.analysis import analyse_staff_feedback, analyse_survey_responses, sweep_seen_ids
from streams.app import app
from streams.callbacks import measure_callback_outcomes
from streams.mirroring import update_mirror
from streams.records import JOURNEY_DELTA_VERSION, JourneyDelta
from streams.tables import INPUTS_KEY, input_counts, journey_to_tally, seen_ids, site_step_to_loop
from streams.topics import (
    COUNTERS_KEY,
    callback_request_topic,
    dead_letter_topic,
    journey_delta_topic,
    mirror_state_topic,
    staff_feedback_topic,
    survey_response_topic,
)
from tests.examples import EXAMPLES

SURVEY = codec_for("SurveyResponse")
STAFF = codec_for("StaffFeedback")
JOURNEYS = list(pipeline_config().taxonomy.journeys)
SURVEYS = survey_response_topic.get_topic_name()
STAFF_TOPIC = staff_feedback_topic.get_topic_name()
TIMEOUT = 10.0  # seconds to wait for an agent's sends: a batch closes after settings.pipeline.batch_within


@dataclass(frozen=True)
class Sent:
    topic: str
    key: bytes | None
    value: bytes
    partition: int | None = None


class RecordingProducer:
    """Stands in for faust's Kafka producer: every message is "written" at once and kept, as bytes."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.changelog: list[FutureMessage] = []

    async def maybe_start(self) -> None:
        pass

    async def send(
        self, topic: str, key: bytes | None, value: bytes, partition: int | None, timestamp: float | None, headers: Any
    ) -> asyncio.Future[RecordMetadata]:
        self.sent.append(Sent(topic, key, value, partition))
        written: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
        written.set_result(
            RecordMetadata(
                topic=topic,
                partition=partition or 0,
                topic_partition=TP(topic, partition or 0),
                offset=len(self.sent) - 1,
                timestamp=timestamp or time.time(),
                timestamp_type=0,
            )
        )
        return written

    async def send_and_wait(self, *args: Any, **kwargs: Any) -> RecordMetadata:
        return (await self.send(*args, **kwargs)).result()

    def send_soon(self, message: FutureMessage) -> None:
        self.changelog.append(message)  # a table's changelog write

    def key_partition(self, topic: str, key: bytes | None) -> TP:
        return TP(topic, 0)

    def on(self, topic: str) -> list[Sent]:
        return [sent for sent in self.sent if sent.topic == topic]

    def deltas(self) -> list[tuple[str, JourneyDelta]]:
        """What the analysis sent on the journey-deltas topic, read back as update_mirror would."""
        return [
            (sent.key.decode() if sent.key else "", JourneyDelta.loads(sent.value))
            for sent in self.on(journey_delta_topic.get_topic_name())
        ]

    def seen_ids_written(self) -> list[tuple[int | None, Any, Any]]:
        """(partition, key, value) of every seen_ids changelog write, read back from its JSON (value None:
        a tombstone)."""
        return [
            (sent.partition, json.loads(sent.key or b"null"), None if sent.value is None else json.loads(sent.value))
            for sent in self.on(seen_ids.changelog_topic.get_topic_name())
        ]

    def inputs(self) -> list[list[Any]]:
        """Every [source, offset, counter names] of the counters messages sent so far."""
        return [entry for key, delta in self.deltas() if key == COUNTERS_KEY for entry in delta.inputs]

    async def until(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; sent: {[s.topic for s in self.sent]}")
            await asyncio.sleep(0.01)

    async def analysed(self, n: int) -> None:
        """Wait until the analysis has counted `n` inputs: its batch's deltas are sent by then."""
        await self.until(lambda: len(self.inputs()) >= n, f"{n} inputs counted")


@pytest.fixture
def kafka(monkeypatch: pytest.MonkeyPatch) -> RecordingProducer:
    producer = RecordingProducer()
    monkeypatch.setattr(app, "_producer", producer)
    return producer


@pytest.fixture(autouse=True)
def empty_tables() -> Iterator[None]:
    tables = (input_counts, journey_to_tally, site_step_to_loop, seen_ids)
    for table in tables:
        assert isinstance(table.data, MemoryStore), "unit tests need the memory:// store"
        table.data.clear()
    yield
    for table in tables:
        table.data.clear()


@pytest.fixture
async def surveys(kafka: RecordingProducer) -> AsyncIterator[Any]:
    async with analyse_survey_responses.test_context() as agent:
        yield agent


def survey(**change: Any) -> dict[str, Any]:
    """A valid response of a moment ago (the checks refuse event times far in the future)."""
    return {**EXAMPLES["SurveyResponse"], "event_time": datetime.now(UTC) - timedelta(minutes=5), **change}


async def put_survey(agent: Any, record: dict[str, Any], **put: Any) -> None:
    """Put a response as Miroir's producers send it: keyed by its response_id."""
    await agent.put(SURVEY.encode(record), key=record["response_id"].encode(), **put)


# ---------------------------------------------------------------- analysis


async def test_a_survey_response_gives_every_journey_a_delta_and_the_batch_its_counters(
    surveys: Any, kafka: RecordingProducer
) -> None:
    await put_survey(surveys, survey(callback_consent=False), timestamp=1_795_000_000.0)
    await kafka.analysed(1)

    deltas = kafka.deltas()
    assert [key for key, _ in deltas] == [*JOURNEYS, COUNTERS_KEY]  # one per journey, then the counters
    assert all(delta.version == JOURNEY_DELTA_VERSION for _, delta in deltas)
    by_journey = dict(deltas)
    ours = by_journey["home_delivery"]
    [sighting] = ours.sightings
    assert (sighting["source"], sighting["offset"], sighting["side"], sighting["id"]) == (
        f"{SURVEYS}:0",
        0,
        "customer",
        "r-1",
    )
    assert "delivery" in sighting["steps"] and "delivery" in sighting["texts"]
    assert ours.produced_at == [1_795_000_000.0]
    for journey in JOURNEYS:  # every journey hears of every offset read, seen in it or not
        assert by_journey[journey].read == {f"{SURVEYS}:0": [[0, 1]]}
        if journey != "home_delivery":
            assert by_journey[journey].sightings == [] and by_journey[journey].produced_at == []
    assert by_journey[COUNTERS_KEY].inputs == [[f"{SURVEYS}:0", 0, ["in", "processed"]]]
    assert kafka.on(dead_letter_topic.get_topic_name()) == []
    assert kafka.on(callback_request_topic.get_topic_name()) == []


async def test_undecodable_bytes_become_a_dead_letter_and_are_counted(surveys: Any, kafka: RecordingProducer) -> None:
    await surveys.put(b"not avro at all")
    await kafka.analysed(1)

    [sent] = kafka.on(dead_letter_topic.get_topic_name())
    letter = codec_for("DeadLetter").decode(sent.value)
    assert sent.key == SURVEYS.encode()
    assert (letter["reason"], letter["source_topic"], letter["source_partition"], letter["source_offset"]) == (
        "undecodable",
        SURVEYS,
        0,
        0,
    )
    assert letter["original"] == b"not avro at all" and letter["detail"]
    assert kafka.inputs() == [[f"{SURVEYS}:0", 0, ["in", "dead:undecodable"]]]
    deltas = dict(kafka.deltas())
    assert all(deltas[journey].sightings == [] for journey in JOURNEYS)
    assert all(deltas[journey].read == {f"{SURVEYS}:0": [[0, 1]]} for journey in JOURNEYS)


async def test_each_input_of_a_mixed_stream_is_counted_once_with_its_fate(
    surveys: Any, kafka: RecordingProducer
) -> None:
    await put_survey(surveys, survey(response_id="ok", callback_consent=False))
    await surveys.put(b"\xc3\x01truncated")
    await surveys.put(SURVEY.encode(survey(response_id="far", event_time=datetime.now(UTC) + timedelta(days=3))))
    await surveys.put(SURVEY.encode(survey(response_id="blank", verbatim="   ")))
    await kafka.analysed(4)  # in one batch or several: the sums are the same

    assert sorted(offset for _, offset, _ in kafka.inputs()) == [0, 1, 2, 3]
    fates = {offset: names for _, offset, names in kafka.inputs()}
    assert fates == {
        0: ["in", "processed"],
        1: ["in", "dead:undecodable"],
        2: ["in", "dead:event_time_out_of_range"],
        3: ["in", "dead:empty_verbatim"],
    }
    letters = [codec_for("DeadLetter").decode(s.value) for s in kafka.on(dead_letter_topic.get_topic_name())]
    assert sorted((letter["source_offset"], letter["reason"]) for letter in letters) == [
        (1, "undecodable"),
        (2, "event_time_out_of_range"),
        (3, "empty_verbatim"),
    ]
    seen = [s["id"] for key, delta in kafka.deltas() if key != COUNTERS_KEY for s in delta.sightings]
    assert seen == ["ok"]


async def test_a_dissatisfied_customer_who_consented_and_left_a_contact_is_called_back(
    surveys: Any, kafka: RecordingProducer
) -> None:
    await put_survey(surveys, survey(score=2))
    await put_survey(surveys, survey(response_id="r-2", score=2, callback_consent=False))
    await put_survey(surveys, survey(response_id="r-3", score=2, contact=None))
    await kafka.analysed(3)

    [sent] = kafka.on(callback_request_topic.get_topic_name())
    request = codec_for("CallbackRequest").decode(sent.value)
    assert sent.key == b"lyon"
    assert (request["callback_id"], request["response_id"], request["site"]) == ("cb-r-1", "r-1", "lyon")
    assert (request["journey_id"], request["step_id"], request["score"], request["priority"]) == (
        "home_delivery",
        "delivery",
        2,
        "high",
    )
    assert request["contact"]["phone"] == "+33600000000"
    assert request["due_at"] > request["created_at"]


async def test_a_staff_story_naming_no_journey_is_sighted_by_every_journey(kafka: RecordingProducer) -> None:
    story = {**EXAMPLES["StaffFeedback"], "event_time": datetime.now(UTC) - timedelta(minutes=5)}
    async with analyse_staff_feedback.test_context() as agent:
        await agent.put(STAFF.encode(story), key=story["feedback_id"].encode())
        await agent.put(b"garbage")
        await kafka.analysed(2)

    deltas = [(key, delta) for key, delta in kafka.deltas() if key != COUNTERS_KEY]
    sighted = {key for key, delta in deltas for s in delta.sightings if (s["id"], s["side"]) == ("f-1", "staff")}
    assert sighted == set(JOURNEYS)
    assert sorted((source, offset) for source, offset, _ in kafka.inputs()) == [
        (f"{STAFF_TOPIC}:0", 0),
        (f"{STAFF_TOPIC}:0", 1),
    ]
    [sent] = kafka.on(dead_letter_topic.get_topic_name())
    assert codec_for("DeadLetter").decode(sent.value)["source_topic"] == STAFF_TOPIC


# ---------------------------------------------------------------- counted once by business id


def sighted(kafka: RecordingProducer) -> list[tuple[str, int]]:
    """(verbatim id, offset) of every sighting the analysis sent."""
    return [(s["id"], s["offset"]) for key, delta in kafka.deltas() if key != COUNTERS_KEY for s in delta.sightings]


async def test_a_response_sent_again_with_its_id_is_a_duplicate_with_no_sighting_and_no_callback(
    surveys: Any, kafka: RecordingProducer
) -> None:
    unhappy = survey(score=2)  # consented, left a phone: asks for a callback
    await put_survey(surveys, unhappy)
    await put_survey(surveys, unhappy)  # a retried webhook: the same record at a new offset
    await put_survey(surveys, {**unhappy, "verbatim": "Livraison en retard, SAV muet."})  # a second import, edited
    await kafka.analysed(3)

    assert kafka.inputs() == [
        [f"{SURVEYS}:0", 0, ["in", "processed"]],
        [f"{SURVEYS}:0", 1, ["in", "duplicate"]],
        [f"{SURVEYS}:0", 2, ["in", "duplicate"]],
    ]
    assert sighted(kafka) == [("r-1", 0)]
    assert len(kafka.on(callback_request_topic.get_topic_name())) == 1
    [(partition, key, first)] = kafka.seen_ids_written()  # one write, for the first copy only
    assert (partition, key, first[:2]) == (0, "r:r-1", [0, 0])


async def test_the_same_message_delivered_again_is_processed_again_not_a_duplicate_and_counted_once(
    kafka: RecordingProducer,
) -> None:
    record = survey(callback_consent=False)
    async with analyse_survey_responses.test_context() as agent:
        await put_survey(agent, record)
        await kafka.analysed(1)
        agent.sent_offset -= 1  # at-least-once after a crash: the same message, at its offset
        await put_survey(agent, record)
        await put_survey(agent, record)  # then a copy at a new offset
        await kafka.analysed(3)

    assert kafka.inputs() == [
        [f"{SURVEYS}:0", 0, ["in", "processed"]],
        [f"{SURVEYS}:0", 0, ["in", "processed"]],
        [f"{SURVEYS}:0", 1, ["in", "duplicate"]],
    ]
    assert sighted(kafka) == [("r-1", 0), ("r-1", 0)]  # the windows take an offset once (applied ranges)
    assert len(kafka.seen_ids_written()) == 1  # a redelivery writes nothing
    async with update_mirror.test_context() as agent:
        await deliver(agent, *kafka.deltas())
    assert input_counts[INPUTS_KEY]["counts"] == {"in": 2, "processed": 1, "duplicate": 1}
    assert delivery_mentions("home_delivery") == 1


async def test_an_input_not_keyed_by_its_id_is_counted_unkeyed_and_still_deduplicated_by_its_worker(
    surveys: Any, kafka: RecordingProducer
) -> None:
    record = survey(callback_consent=False)
    await surveys.put(SURVEY.encode(record))  # no key: the producer's partitioner picks
    await surveys.put(SURVEY.encode(record), key=b"row-2", partition=1)  # keyed by something else
    await kafka.analysed(2)

    assert kafka.inputs() == [
        [f"{SURVEYS}:0", 0, ["in", "processed", "unkeyed"]],
        [f"{SURVEYS}:1", 1, ["in", "duplicate", "unkeyed"]],  # caught: this worker holds both partitions
    ]


async def test_a_rejected_input_leaves_no_id_so_a_corrected_copy_counts(surveys: Any, kafka: RecordingProducer) -> None:
    await put_survey(surveys, survey(verbatim="   "))
    await put_survey(surveys, survey(callback_consent=False))  # corrected: processed
    await put_survey(surveys, survey(verbatim="   "))  # a copy of an id processed already, whatever it holds
    await kafka.analysed(3)

    assert [names for _, _, names in kafka.inputs()] == [
        ["in", "dead:empty_verbatim"],
        ["in", "processed"],
        ["in", "duplicate"],
    ]
    assert len(kafka.on(dead_letter_topic.get_topic_name())) == 1


async def test_staff_stories_are_deduplicated_by_feedback_id_apart_from_responses(kafka: RecordingProducer) -> None:
    story = {**EXAMPLES["StaffFeedback"], "event_time": datetime.now(UTC) - timedelta(minutes=5), "feedback_id": "r-1"}
    async with analyse_survey_responses.test_context() as agent:
        await put_survey(agent, survey(callback_consent=False))  # response r-1
        await kafka.analysed(1)
    async with analyse_staff_feedback.test_context() as agent:
        await agent.put(STAFF.encode(story), key=b"r-1")  # a staff story of the same id: another input
        await agent.put(STAFF.encode(story), key=b"r-1")
        await kafka.analysed(3)

    assert [names[1] for _, _, names in kafka.inputs()] == ["processed", "processed", "duplicate"]
    assert [key for _, key, _ in kafka.seen_ids_written()] == ["r:r-1", "f:r-1"]


async def test_ids_older_than_the_long_window_are_forgotten_the_owner_writing_the_tombstone(
    surveys: Any, kafka: RecordingProducer
) -> None:
    await put_survey(surveys, survey(response_id="a", callback_consent=False))
    await put_survey(surveys, survey(response_id="b", callback_consent=False), partition=1)
    await kafka.analysed(2)

    now, keep = time.time(), settings.pipeline.long_window
    assert await sweep_seen_ids(now + keep - 60, owned={0, 1}) == 0  # remembered the whole long window
    assert len(seen_ids) == 2
    assert await sweep_seen_ids(now + keep + 60, owned={0}) == 2  # this worker owns partition 0 only
    assert len(seen_ids) == 0
    assert [(p, key) for p, key, first in kafka.seen_ids_written() if first is None] == [(0, "r:a")]

    await put_survey(surveys, survey(response_id="a", callback_consent=False))  # forgotten: new again
    await kafka.analysed(3)
    assert kafka.inputs()[-1][2] == ["in", "processed"]


# ---------------------------------------------------------------- mirroring


def sighting(offset: int, response_id: str, source: str = f"{SURVEYS}:0") -> dict[str, Any]:
    return {
        "source": source,
        "offset": offset,
        "side": "customer",
        "at": time.time() - 60,
        "id": response_id,
        "steps": {"delivery": -0.6},
        "texts": {"delivery": "SAV injoignable"},
    }


async def deliver(agent: Any, *deltas: tuple[str, JourneyDelta]) -> None:
    """Put the deltas, then an empty counters delta behind them: update_mirror takes its values
    in order, so once the stream has taken that one, the agent is done with every delta before."""
    for key, delta in deltas:
        await agent.put(delta, key=key)
    await agent.put(JourneyDelta.of_counters([]), key=COUNTERS_KEY)


def delivery_mentions(journey_id: str) -> int:
    """How many customer mentions of the delivery step the journey's live window holds."""
    buckets = journey_to_tally[journey_id]["buckets"]["live"].values()
    return sum(int(bucket["customer"]["delivery"][0]) for bucket in buckets)


async def test_update_mirror_counts_each_input_once_however_often_it_is_delivered(kafka: RecordingProducer) -> None:
    batch = JourneyDelta.of_counters(
        [[f"{SURVEYS}:0", 0, ["in", "processed"]], [f"{SURVEYS}:0", 1, ["in", "dead:undecodable"]]]
    )
    async with update_mirror.test_context() as agent:
        await deliver(agent, (COUNTERS_KEY, batch))
        assert input_counts[INPUTS_KEY]["counts"] == {"in": 2, "processed": 1, "dead:undecodable": 1}

        # At-least-once: the batch again (same source and offsets), plus one new input.
        again = JourneyDelta.of_counters([*batch.inputs, [f"{SURVEYS}:0", 2, ["in", "processed"]]])
        await deliver(agent, (COUNTERS_KEY, again))

    assert input_counts[INPUTS_KEY] == {
        "counts": {"in": 3, "processed": 2, "dead:undecodable": 1},
        "counted": {f"{SURVEYS}:0": [[0, 3]]},
    }
    assert any(m.message.channel is input_counts.changelog_topic for m in kafka.changelog)


async def test_update_mirror_tallies_a_journey_once_per_sighting_and_publishes_its_mirror(
    kafka: RecordingProducer,
) -> None:
    read = {f"{SURVEYS}:0": [[0, 2]]}
    delta = JourneyDelta.of_journey([sighting(0, "r-1"), sighting(1, "r-2")], read, [time.time()])
    async with update_mirror.test_context() as agent:
        await deliver(agent, ("home_delivery", delta))
        assert delivery_mentions("home_delivery") == 2
        states = len(kafka.on(mirror_state_topic.get_topic_name()))
        assert states > 0  # the journey's first mirror

        await deliver(agent, ("home_delivery", delta))  # delivered again: nothing new
        await deliver(agent, ("click_collect", JourneyDelta.of_journey([], read, [])))  # no tally yet, none made

    assert delivery_mentions("home_delivery") == 2
    assert journey_to_tally["home_delivery"]["applied"] == read
    assert "click_collect" not in journey_to_tally
    assert len(kafka.on(mirror_state_topic.get_topic_name())) == states  # nothing moved, nothing published
    state = codec_for("MirrorState").decode(kafka.on(mirror_state_topic.get_topic_name())[0].value)
    assert state["journey_id"] == "home_delivery"


async def test_the_deltas_the_analysis_sends_are_what_update_mirror_reads(kafka: RecordingProducer) -> None:
    async with analyse_survey_responses.test_context() as agent:
        await put_survey(agent, survey(callback_consent=False))
        await agent.put(b"garbage")
        await kafka.analysed(2)
    async with update_mirror.test_context() as agent:
        await deliver(agent, *kafka.deltas())  # read back from the bytes a Kafka producer would have written

    assert input_counts[INPUTS_KEY]["counts"] == {"in": 2, "processed": 1, "dead:undecodable": 1}
    assert delivery_mentions("home_delivery") == 1
    assert set(journey_to_tally) == {"home_delivery"}


async def test_update_mirror_refuses_a_journey_delta_of_an_unknown_version(kafka: RecordingProducer) -> None:
    version = JOURNEY_DELTA_VERSION + 1
    newer = JourneyDelta(version, [], {}, [], [[f"{SURVEYS}:0", 0, ["in", "processed"]]])
    async with update_mirror.test_context() as agent:
        with pytest.raises(RuntimeError, match=rf"journey delta version {version}, this worker reads"):
            await deliver(agent, (COUNTERS_KEY, newer))
    assert INPUTS_KEY not in input_counts  # refused before anything was counted


async def test_update_mirror_still_reads_a_delta_of_an_earlier_version(kafka: RecordingProducer) -> None:
    older = JourneyDelta(1, [], {}, [], [[f"{SURVEYS}:0", 0, ["in", "processed"]]])  # before erasures existed
    async with update_mirror.test_context() as agent:
        await deliver(agent, (COUNTERS_KEY, older))
    assert input_counts[INPUTS_KEY]["counts"] == {"in": 1, "processed": 1}


# ---------------------------------------------------------------- callback outcomes


async def test_callback_outcomes_close_the_loop_once_each_and_skip_unreadable_ones(kafka: RecordingProducer) -> None:
    outcome = codec_for("CallbackOutcome").encode(
        {
            **EXAMPLES["CallbackOutcome"],
            "created_at": datetime(2026, 11, 23, 9, tzinfo=UTC),
            "resolved_at": datetime(2026, 11, 23, 11, tzinfo=UTC),
        }
    )
    async with measure_callback_outcomes.test_context() as agent:
        await agent.put(outcome)
        agent.sent_offset -= 1  # the same message delivered again (at-least-once)
        await agent.put(outcome)
        await agent.put(b"garbage")  # logged and skipped: the agent goes on
        await agent.put(codec_for("CallbackOutcome").encode({**EXAMPLES["CallbackOutcome"], "site": "paris"}))
        await agent.put(b"garbage")  # behind the others: once taken, they were handled

    loop = site_step_to_loop["lyon|-"]
    assert (loop["resolved"], loop["within_sla"], loop["durations"]) == (1, 1, [7200.0])
    assert site_step_to_loop["paris|-"]["resolved"] == 1
