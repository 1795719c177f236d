"""The intake's faults: answers POSTed by a sender that retries, while the intake is SIGKILLed and
started again, or while the broker is stopped. A worker of the scenario's own reads what the intake
wrote as it arrives.

There is no reference run here: the sender knows every id it sent, so the check is exact. Nothing
lost: every id the intake answered 202 for is in Kafka, and every id sent is counted processed once;
nothing counted twice: the copies that retries wrote (a request whose answer the kill cut off, a
record Kafka took after the intake answered 503) are counted as duplicates, and in = processed +
dead-lettered + duplicate = the messages in the topic. With the broker down the intake must answer
503 with Retry-After, never 202."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from config.settings import Settings
from tools.chaos.compare import Outcome
from tools.chaos.options import ChaosError, ChaosOptions
from tools.chaos.replay import Replay
from tools.chaos.run import Run
from tools.chaos.state import settled_state, topic_size
from tools.http_sender import as_json, post_batch
from tools.intake import RunningIntake, ids_in_topic, spawn_intake, with_tokens
from tools.simulate import survey_responses

BATCH = 20  # records per POST
SENDER_TRIES = 1_000  # a sender that retries for as long as a fault lasts
SENDER_CONNECT_TRIES = 60  # refused connections in a row (one a second) while the intake restarts


class Sender:
    """POSTs the synthetic pilot's survey responses in batches, in a thread, retrying each batch
    until the intake took it; knows which ids were accepted and what the intake answered.

    Like an integration that checkpoints after each batch but cannot tell how far a cut-off
    request went, it resumes from its checkpoint after a lost connection: the batch cut off is sent
    again, and so is the one before it, accepted already, whose copies the pipeline must count as
    duplicates."""

    def __init__(self, url: str, token: str, records: list[dict[str, Any]], rate: float) -> None:
        self.url, self.token, self.records, self.rate = url, token, records, rate
        self.accepted: list[str] = []
        self.answers: Counter[str] = Counter()
        self.error: BaseException | None = None
        self.in_flight = threading.Event()  # set while a request waits for its answer
        self.thread = threading.Thread(target=self._run, name="chaos-sender", daemon=True)

    def _post(self, client: httpx.Client, batch: list[dict[str, Any]]) -> None:
        ids, _ = post_batch(client, "survey", batch, SENDER_TRIES, SENDER_CONNECT_TRIES, self.answers)
        self.accepted += ids

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        hooks: dict[str, list[Callable[[Any], None]]] = {
            "request": [lambda _: self.in_flight.set()],
            "response": [lambda _: self.in_flight.clear()],
        }
        try:
            with httpx.Client(base_url=self.url, headers=headers, timeout=60, event_hooks=hooks) as client:
                started, checkpoint = time.monotonic(), None
                for n, i in enumerate(range(0, len(self.records), BATCH)):
                    time.sleep(max(0.0, started + n * BATCH / self.rate - time.monotonic()))
                    batch = [as_json(r) for r in self.records[i : i + BATCH]]
                    cut_off = self.answers["transport"]
                    self._post(client, batch)
                    if self.answers["transport"] > cut_off and checkpoint is not None:
                        self._post(client, checkpoint)
                    checkpoint = batch
        except BaseException as error:  # reported by wait(): a thread's exception is otherwise lost
            self.error = error

    def wait(self, timeout: float) -> None:
        self.thread.join(timeout)
        if self.thread.is_alive() or self.error is not None:
            raise ChaosError(f"the sender did not finish: {self.error or 'still sending'}")

    def wait_for(self, count: int, what: str, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count:
            if self.error is not None or time.monotonic() > deadline:
                raise ChaosError(f"the sender did not reach {what}: {self.error or 'too slow'}")
            time.sleep(0.05)


def kill_intake(
    intake: RunningIntake, sender: Sender, run: Run, settings: Settings, options: ChaosOptions, console: Console
) -> None:
    """SIGKILL the intake at evenly spread points of the sending, each a few milliseconds into a
    request (Kafka may have its records, the sender not the answer), and start it again at once."""
    rng = random.Random(options.seed)
    for k in range(1, options.kills + 1):
        sender.wait_for(len(sender.records) * k // (options.kills + 1), f"kill {k}")
        sender.in_flight.wait(timeout=10)
        time.sleep(rng.uniform(0.0, 0.01))
        intake.kill()
        killed_at = len(sender.accepted)
        restarted = time.monotonic()
        intake.start()
        sender.wait_for(killed_at + 1, "an answer after the restart")
        run.recoveries.append(round(time.monotonic() - restarted, 1))
        run.faults.append(f"intake SIGKILL at {killed_at:,} accepted")
        console.print(
            f"chaos: {run.name}: intake killed at {killed_at:,} accepted, taking again after {run.recoveries[-1]:.1f}s"
        )


def stop_broker(
    intake: RunningIntake, sender: Sender, run: Run, settings: Settings, options: ChaosOptions, console: Console
) -> None:
    """Stop Kafka while the sender posts; start it again after the outage."""
    from infra.broker import start_kafka, stop_kafka
    from infra.processes import Paths

    sender.wait_for(len(sender.records) * 3 // 10, "30 % of the records")
    stop_kafka(settings, echo=lambda line: console.print(f"chaos: {line}"))
    before = len(sender.accepted)
    time.sleep(options.outage)
    during = len(sender.accepted) - before  # 0, or the intake answered 202 without Kafka
    restarted = time.monotonic()
    start_kafka(settings, Paths(settings), echo=lambda line: console.print(f"chaos: {line}"))
    sender.wait_for(len(sender.accepted) + 1, "an answer after the broker's restart")
    run.recoveries.append(round(time.monotonic() - restarted, 1))
    run.faults.append(f"broker down {options.outage:.0f}s at {before:,} accepted ({during} accepted meanwhile)")
    console.print(f"chaos: {run.name}: broker back; the intake took again after {run.recoveries[-1]:.1f}s")


IntakeFault = Callable[[RunningIntake, Sender, Run, Settings, ChaosOptions, Console], None]
INTAKE_FAULTS: dict[str, IntakeFault] = {"intake-kill": kill_intake, "intake-broker-down": stop_broker}


def run_intake_scenario(
    settings: Settings, name: str, redis_db: int, options: ChaosOptions, console: Console
) -> Outcome:
    import redis

    from infra.topics import ensure_topics
    from tools.chaos.run import scenario_env
    from tools.workers import Worker

    tag = f"chaos-{name}-{time.strftime('%H%M%S')}"
    replay = Replay(f"{tag}-survey", f"{tag}-staff", 0, settings.kafka.topic_partitions)
    env, app_id, redis_url = scenario_env(settings, name, replay, redis_db)
    ensure_topics(settings, [replay.survey_topic, replay.staff_topic, env["MIROIR_CALLBACK_REQUEST_TOPIC"]])
    redis.Redis.from_url(redis_url).flushdb()
    logs = settings.stack.run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    worker = Worker(
        env,
        int(env["MIROIR_WEB_PORT"]),
        settings.stack.run_dir / "worker" / app_id,
        logs / f"worker-{app_id}.log",
        level="info",
    )
    run = Run(name, app_id, redis_url, replay, [worker])
    intake = spawn_intake(
        Path(logs / f"intake-{app_id}.log"),
        MIROIR_SURVEY_TOPIC=replay.survey_topic,
        MIROIR_STAFF_TOPIC=replay.staff_topic,
        MIROIR_INTAKE_RATE_PER_TOKEN="1000",
        MIROIR_INTAKE_RATE_BURST="1000",
        MIROIR_INTAKE_SEND_TIMEOUT="3",
    )
    token = with_tokens(settings, lambda store: store.create(app_id, time.time()))
    n = options.intake_records
    records = survey_responses(n, tag, options.seed, start=time.time() - n, rate=1.0)
    sender = Sender(intake.url, token, records, options.intake_rate)
    console.print(f"chaos: {name}: {len(records):,} records POSTed at {options.intake_rate:.0f}/s to {intake.url}")
    try:
        worker.start()
        run.wait_until(run.owns_every_input, "the worker taking its partitions", timeout=180)
        sender.thread.start()
        INTAKE_FAULTS[name](intake, sender, run, settings, options, console)
        sender.wait(timeout=600)
        run.replay = replace(replay, sent=topic_size(settings, replay.survey_topic))
        state = settled_state(settings, run)
        if not worker.alive():
            raise ChaosError(f"{name}: the worker died; see {worker.log}")
    finally:
        worker.stop()
        intake.stop()
        with_tokens(settings, lambda store: store.forget(app_id))
    return intake_outcome(run, state, sender, ids_in_topic(settings, replay.survey_topic))


def intake_outcome(run: Run, state: dict[str, Any], sender: Sender, in_kafka: Counter[str]) -> Outcome:
    counters = state["counters"]
    sent = {r["response_id"] for r in sender.records}
    processed, duplicates = counters.get("processed", 0), counters.get("duplicate", 0)
    dead = sum(v for k, v in counters.items() if k.startswith("dead:"))
    copies = sum(in_kafka.values()) - len(in_kafka)  # messages beyond the first of each id
    accepted = set(sender.accepted)
    answered_202_not_in_kafka = len(accepted - set(in_kafka))
    return Outcome(
        scenario=run.name,
        events=len(sent),
        faults=run.faults,
        lost=answered_202_not_in_kafka + len(sent - accepted) + max(0, len(sent) - processed),
        duplicated=max(0, processed - len(sent)),
        redelivered=copies,
        counted_in=counters.get("in", 0),
        processed=processed,
        dead_lettered=dead,
        duplicates=duplicates,
        reference_duplicates=copies,  # every copy a retry wrote, and nothing else, is a duplicate
        reconciled=counters.get("in", 0) == processed + dead + duplicates == run.replay.sent and duplicates == copies,
        figures_equal="-",
        types_equal="-",
        callbacks=len(state["queue"]["entries"]),
        recovery_seconds=run.recoveries,
        changelog_seconds=[],
        detail={
            "figures_differ": [],
            "types_differ": [],
            "answers": dict(sender.answers),
            "accepted_not_in_kafka": answered_202_not_in_kafka,
            "in_kafka_not_accepted": len(set(in_kafka) - accepted),
            "resent": copies,
        },
    )
