"""Fault scenarios on the real stack, each compared with an uninterrupted run of the same replay.

A seeded replay (the synthetic pilot with a share of bad inputs) is produced
once to input topics of its own. Each scenario starts fresh workers (their own
app id, callback-requests topic and Redis database) that read it from the
start, does its damage while they work through the backlog (the harshest
moment: the most work in flight), waits until the groups have committed all
they read, then reads what the pipeline kept (its tables' changelogs and the
Redis queue) and compares it with the reference run:

- lost: inputs never counted, verbatims missing from the windows, callback
  requests the queue never saw;
- duplicated: verbatims counted twice, a callback queued twice, a customer with
  two open callbacks;
- redelivered: callback requests sent again after a fault (at-least-once at work;
  the idempotent queue admits each once);
- recovery: from the restart (the kill, with two workers; the broker or Redis
  started again) until the pipeline counts new inputs again.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from rich.console import Console
from rich.table import Table

from config.settings import Settings
from config.topics import CALLBACK_REQUESTS, STAFF_FEEDBACK, SURVEY_RESPONSES, Topics
from processors.config import pipeline_config
from processors.windows import JourneyTally
from schemas import INPUT_SCHEMAS, codec_for
from sinks.callback_queue import SITES, SUPPRESSED, customer_key, site_stream
from tools.demo import free_port, invalid_inputs
from tools.readout import WorkerUnavailable, fetch
from tools.simulate import simulate

EVENT_RATE = 20.0  # events per second of event time: 50,000 events span about 40 minutes
STALL_SECONDS = 120.0
SCENARIOS = ("crash", "two-workers", "scale-out", "broker-restart", "redis-outage")
FIRST_REDIS_DB = 10


class ChaosError(RuntimeError):
    """A scenario could not run to its end; the message says where to look."""


@dataclass
class ChaosOptions:
    events: int = 50_000
    kills: int = 5
    seed: int = 11
    invalid_share: float = 0.02
    scenarios: tuple[str, ...] = SCENARIOS
    outage: float = 10.0  # seconds the broker or Redis stays down


@dataclass(frozen=True)
class Replay:
    survey_topic: str
    staff_topic: str
    sent: int
    partitions: int


# ---------------------------------------------------------------- the replay


def produce_replay(settings: Settings, name: str, options: ChaosOptions, console: Console) -> Replay:
    """The seeded pilot, bad inputs included, on two fresh input topics."""
    from kafka import KafkaProducer

    from infra.topics import ensure_topics

    replay = Replay(
        f"{name}-{SURVEY_RESPONSES}", f"{name}-{STAFF_FEEDBACK}", options.events, settings.kafka.topic_partitions
    )
    ensure_topics(settings, [replay.survey_topic, replay.staff_topic])
    topic_of = {"survey": replay.survey_topic, "staff": replay.staff_topic}
    rng = random.Random(options.seed + 1)
    start = time.time() - options.events / EVENT_RATE
    producer = KafkaProducer(**settings.kafka.client_config(), acks="all", linger_ms=20, batch_size=256 * 1024)
    for i, event in enumerate(simulate(options.seed, start, options.events, EVENT_RATE)):
        if rng.random() < options.invalid_share:
            producer.send(replay.survey_topic, value=invalid_inputs(rng, i, event.record["event_time"]))
            continue
        key = event.record.get("response_id") or event.record.get("feedback_id")
        producer.send(
            topic_of[event.kind], key=str(key).encode(), value=codec_for(INPUT_SCHEMAS[event.kind]).encode(event.record)
        )
    producer.flush(timeout=120)
    producer.close()
    console.print(f"chaos: replay of {options.events:,} events (seed {options.seed}) on {replay.survey_topic}, ...")
    return replay


# ---------------------------------------------------------------- workers


class Worker:
    """One `miroir worker` process that can be killed and started again on the same port."""

    def __init__(self, env: dict[str, str], index: int, data_dir: Path, log: Path) -> None:
        self.port = free_port(int(env["MIROIR_WEB_PORT"]) + index)
        self.env = {**env, "MIROIR_WEB_PORT": str(self.port), "MIROIR_DATA_DIR": str(data_dir)}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.log_from = 0  # where this start's lines begin in the (shared, appended) log

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self) -> None:
        self.log_from = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                # info: faust logs when it starts and ends reading the changelogs
                [sys.executable, "-m", "miroir.cli", "worker", "-l", "info"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last commit, no flush; what a power cut or the OOM killer does."""
        if self.alive():
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def changelog_seconds(self) -> float | None:
        """How long this start spent reading the tables' changelogs (faust's own log lines)."""
        if self.process is None:
            return None
        with self.log.open("rb") as log:  # both workers of a run share it: their pid tells their lines
            log.seek(self.log_from)
            mine = f"] [{self.process.pid}] "
            lines = [line for line in log.read().decode(errors="replace").splitlines() if mine in line]
        # The latest read: a survivor reads again the partitions it takes over.
        starts = [i for i, line in enumerate(lines) if "Restoring state from changelog topics" in line]
        if not starts:
            return None
        ends = [line for line in lines[starts[-1] :] if "Done reading from changelog topics" in line]
        began, ended = _log_time(lines[starts[-1]]), _log_time(ends[0]) if ends else None
        return round(ended - began, 2) if began is not None and ended is not None else None

    def counters(self) -> dict[str, Any] | None:
        try:
            return fetch(self.url, "/counters/", timeout=2) if self.alive() else None
        except WorkerUnavailable:
            return None


def _log_time(line: str) -> float | None:
    """Epoch seconds of a faust log line ("[2026-11-23 13:24:44,531] ...")."""
    try:
        return datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    except ValueError:
        return None


@dataclass
class Run:
    """One scenario's workers, with what was done to them and how long they took to recover."""

    name: str
    app_id: str
    redis_url: str
    replay: Replay
    workers: list[Worker]
    faults: list[str] = field(default_factory=list)
    recoveries: list[float] = field(default_factory=list)
    changelog_reads: list[float] = field(default_factory=list)

    @property
    def topics(self) -> Topics:
        """This run's names: its own app id and callback-requests topic, the replay's inputs."""
        return Topics(
            self.app_id,
            survey_responses=self.replay.survey_topic,
            staff_feedback=self.replay.staff_topic,
            callback_requests=f"{self.app_id}-{CALLBACK_REQUESTS}",
        )

    def unprocessed(self, settings: Settings) -> int:
        """Messages read by this run's workers and not committed yet: the replay and the deltas
        (faust's group), the callback requests (the callback sink's group)."""
        pipeline = [self.replay.survey_topic, self.replay.staff_topic, self.topics.journey_deltas]
        return lag(settings, self.app_id, pipeline) + self.callbacks_held(settings)

    def callbacks_held(self, settings: Settings) -> int:
        return lag(settings, self.topics.callback_sink_group, [self.topics.callback_requests])

    def counted(self) -> int:
        """Inputs counted so far (the counters' owner answers; a standby may lag, so the max)."""
        seen = [c["in"] for w in self.workers if (c := w.counters()) is not None]
        return max(seen, default=-1)

    def owns_every_input(self) -> bool:
        """Whether the live workers together own every partition of both input topics."""
        assigned = {a for w in self.workers if (c := w.counters()) for a in c.get("assigned", [])}
        return all(
            f"{topic}:{p}" in assigned
            for topic in (self.replay.survey_topic, self.replay.staff_topic)
            for p in range(self.replay.partitions)
        )

    def wait_until(self, check: Callable[[], bool], what: str, timeout: float = STALL_SECONDS) -> float:
        """Seconds until `check()` holds; a ChaosError naming the log if it does not in time."""
        started = time.monotonic()
        while not check():
            if time.monotonic() - started > timeout:
                raise ChaosError(f"{self.name}: {what} did not happen within {timeout:.0f}s; see {self.workers[0].log}")
            time.sleep(0.1)
        return time.monotonic() - started

    def counted_in_changelog(self, settings: Settings) -> int:
        """Inputs counted as the changelog has it: after a SIGKILL, exactly what survived."""
        table = read_changelog(settings, self.topics.changelog("input_counts"))
        return int(table.get("inputs", {}).get("counts", {}).get("in", 0))

    def wait_for_progress(self, target: int) -> int:
        """Block until `target` inputs are counted; returns the count then."""
        self.wait_until(lambda: self.counted() >= target, f"counting {target:,} inputs")
        return self.counted()

    def recovered(self, since: float, before: int) -> float:
        """Seconds from `since` (monotonic: when the fault ended) until the count moves past
        `before` (the count when it struck), or every input is counted (a short replay may be
        done by then); recorded as a recovery time."""
        self.wait_until(lambda: self.counted() > before or self.counted() >= self.replay.sent, "resuming")
        seconds = time.monotonic() - since
        self.recoveries.append(round(seconds, 1))
        self.changelog_reads += [s for w in self.workers if w.alive() and (s := w.changelog_seconds()) is not None]
        return seconds


def scenario_env(settings: Settings, run_name: str, replay: Replay, redis_db: int) -> tuple[dict[str, str], str, str]:
    app_id = f"miroir-chaos-{run_name}-{time.strftime('%H%M%S')}-{os.getpid() % 1000}"
    redis_url = urlparse(settings.redis.dsn)._replace(path=f"/{redis_db}").geturl()
    env = {
        **os.environ,
        "MIROIR_APP_ID": app_id,
        "MIROIR_SURVEY_TOPIC": replay.survey_topic,
        "MIROIR_STAFF_TOPIC": replay.staff_topic,
        "MIROIR_CALLBACK_REQUEST_TOPIC": f"{app_id}-{CALLBACK_REQUESTS}",
        "MIROIR_AUTO_OFFSET_RESET": "earliest",
        "MIROIR_REDIS_URL": redis_url,
        "MIROIR_EXIT_WITH_PARENT": "1",
        "MIROIR_WEB_PORT": str(settings.pipeline.web_port + 20),
    }
    return env, app_id, redis_url


# ---------------------------------------------------------------- faults


def no_fault(run: Run, settings: Settings, options: ChaosOptions, console: Console) -> None:
    """The reference: one worker, left alone."""


def crash(run: Run, settings: Settings, options: ChaosOptions, console: Console) -> None:
    """SIGKILL the worker at random points of the backlog, and start it again at once."""
    rng = random.Random(options.seed)
    worker = run.workers[0]
    for target in sorted(int(rng.uniform(0.05, 0.85) * run.replay.sent) for _ in range(options.kills)):
        run.wait_for_progress(target)
        worker.kill()
        restarted = time.monotonic()
        worker.start()
        before = run.counted_in_changelog(settings)  # so that recovering that much is not taken for progress
        seconds = run.recovered(restarted, before)
        run.faults.append(f"SIGKILL at {before:,}")
        console.print(f"chaos: {run.name}: killed at {before:,} counted, moving again after {seconds:.1f}s")


def two_workers(run: Run, settings: Settings, options: ChaosOptions, console: Console) -> None:
    """Two workers in one group; SIGKILL one mid-way and leave it dead: its partitions must move."""
    run.wait_for_progress(run.replay.sent // 2)
    run.workers[1].kill()
    killed = time.monotonic()
    before = run.counted_in_changelog(settings)
    run.wait_until(run.owns_every_input, "the survivor taking every input partition")
    seconds = run.recovered(killed, before)
    run.faults.append(f"SIGKILL of one of two at {before:,}")
    console.print(f"chaos: {run.name}: one of two killed at {before:,}; the other took over in {seconds:.1f}s")


def scale_out(run: Run, settings: Settings, options: ChaosOptions, console: Console) -> None:
    """A second worker joins mid-stream: half the partitions, and the tables on them, move to it
    while batches are in flight (the rebalance that once lost inputs)."""
    before = run.wait_for_progress(int(run.replay.sent * 0.3))
    joined = time.monotonic()
    run.workers[1].start()
    run.wait_until(
        lambda: all(c and c["assigned"] for c in (w.counters() for w in run.workers)) and run.owns_every_input(),
        "the group sharing the partitions between both workers",
    )
    seconds = run.recovered(joined, before)
    run.faults.append(f"second worker joined at {before:,}")
    console.print(f"chaos: {run.name}: a second worker joined at {before:,}; counting again after {seconds:.1f}s")


def broker_restart(run: Run, settings: Settings, options: ChaosOptions, console: Console) -> None:
    """Stop Kafka mid-stream, keep it down, start it again; the worker must carry on by itself."""
    from infra.stack import Paths, start_kafka, stop_kafka

    before = run.wait_for_progress(int(run.replay.sent * 0.4))
    stop_kafka(settings, echo=lambda line: console.print(f"chaos: {line}"))
    time.sleep(options.outage)
    restarted = time.monotonic()
    start_kafka(settings, Paths(settings), echo=lambda line: console.print(f"chaos: {line}"))
    seconds = run.recovered(restarted, before)
    run.faults.append(f"broker down {options.outage:.0f}s at {before:,}")
    console.print(f"chaos: {run.name}: broker back; the worker moved again after {seconds:.1f}s")


def redis_outage(run: Run, settings: Settings, options: ChaosOptions, console: Console) -> None:
    """Stop Redis mid-stream: the mirror keeps going and says since when the queue is unreachable;
    once Redis is back every held callback is queued."""
    from infra.stack import Paths, start_redis, stop_redis

    run.wait_for_progress(int(run.replay.sent * 0.3))
    stop_redis(settings, echo=lambda line: console.print(f"chaos: {line}"))
    url = run.workers[0].url
    down = run.wait_until(lambda: _queue_state(url) == "unavailable", "the read-out marking the queue unavailable")
    during = run.counted()
    time.sleep(options.outage)
    readout = fetch(url, "/mirror/")
    moving = run.counted() > during or during == run.replay.sent
    if not readout["callbacks"].get("stale_since") or not moving:
        raise ChaosError(f"{run.name}: with Redis down the mirror stopped or did not say since when: {readout}")
    restarted = time.monotonic()
    start_redis(settings, Paths(settings), echo=lambda line: console.print(f"chaos: {line}"))
    run.wait_until(
        lambda: _queue_state(url) == "ok" and run.callbacks_held(settings) == 0, "queueing the held callbacks"
    )
    seconds = time.monotonic() - restarted
    run.recoveries.append(round(seconds, 1))
    run.faults.append(f"Redis down {options.outage:.0f}s (marked stale after {down:.1f}s)")
    console.print(f"chaos: {run.name}: Redis back; every held callback queued after {seconds:.1f}s")


def _queue_state(url: str) -> str | None:
    try:
        return str(fetch(url, "/mirror/", timeout=5)["callbacks"]["queue"])
    except (WorkerUnavailable, KeyError):
        return None


Fault = Callable[[Run, Settings, ChaosOptions, Console], None]
# scenario -> (workers, how many start with the run, the fault)
FAULTS: dict[str, tuple[int, int, Fault]] = {
    "reference": (1, 1, no_fault),
    "crash": (1, 1, crash),
    "two-workers": (2, 2, two_workers),
    "scale-out": (2, 1, scale_out),
    "broker-restart": (1, 1, broker_restart),
    "redis-outage": (1, 1, redis_outage),
}


# ---------------------------------------------------------------- what the pipeline kept


def read_changelog(settings: Settings, topic: str) -> dict[str, Any]:
    """A table as its changelog has it: the latest value of each key."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(**settings.kafka.client_config(), enable_auto_commit=False, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        table: dict[str, Any] = {}
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=1000, max_records=2000).values():
                for record in records:
                    key = json.loads(record.key)
                    if record.value is None:
                        table.pop(key, None)
                    else:
                        table[key] = json.loads(record.value)
        return table
    finally:
        consumer.close()


def lag(settings: Settings, group: str, topics: list[str]) -> int:
    """Messages of `topics` the consumer group has not committed yet: 0 once all is processed."""
    from kafka import KafkaConsumer, TopicPartition

    # With a group id but no subscription, the consumer reads the group's offsets without joining it.
    consumer = KafkaConsumer(**settings.kafka.client_config(), group_id=group, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        end = consumer.end_offsets(partitions)
        return sum(end[tp] - (consumer.committed(tp) or 0) for tp in partitions)
    finally:
        consumer.close()


def topic_size(settings: Settings, topic: str) -> int:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(**settings.kafka.client_config(), group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def window_figures(tallies: dict[str, Any]) -> dict[str, tuple[int, int, float, float]]:
    """Per 'journey|step|window|side': n, verbatims, positive and negative sums."""
    config = pipeline_config()
    figures = {}
    for journey_id, data in tallies.items():
        tally = JourneyTally.from_dict(data)
        for window in config.windows:
            for step in config.taxonomy.journeys[journey_id].steps:
                for side in ("customer", "staff"):
                    v = tally.view(window, side, step.id)
                    key = f"{journey_id}|{step.id}|{window.name}|{side}"
                    figures[key] = (v.n, v.total, v.pos_sum, v.neg_sum)
    return figures


def mirror_types(tallies: dict[str, Any]) -> dict[str, str]:
    return {
        f"{journey_id}|{key}": classified["mirror_type"]
        for journey_id, data in tallies.items()
        for key, classified in data.get("classified", {}).items()
    }


def verbatims(tallies: dict[str, Any]) -> Counter[str]:
    """Verbatims per 'journey|side' in the long window (the replay spans well under it)."""
    config = pipeline_config()
    long = max(config.windows, key=lambda w: w.size)
    out: Counter[str] = Counter()
    for journey_id, data in tallies.items():
        tally = JourneyTally.from_dict(data)
        for side in ("customer", "staff"):
            out[f"{journey_id}|{side}"] = tally.view(long, side, "").total
    return out


def queued_callbacks(redis_url: str) -> dict[str, Any]:
    """The queue's entries per callback, each customer's open callback, and every request the queue
    decided on (admitted, or suppressed with its reason: a customer's second open callback)."""
    import redis

    client: Any = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        entries: Counter[str] = Counter()
        for site in client.smembers(SITES):
            for _, fields in client.xrange(site_stream(site)):
                entries[fields["callback_id"]] += 1
        customers: dict[str, str] = {}
        for key in client.scan_iter(customer_key("*")):
            if opened := client.hget(key, "open"):
                customers[key.rsplit(":", 1)[1]] = opened
        suppressed = client.hgetall(SUPPRESSED)
        return {"entries": entries, "customers": customers, "decided": set(entries) | set(suppressed)}
    finally:
        client.close()


def settled_state(settings: Settings, run: Run) -> dict[str, Any]:
    """The tables and the queue once the group has committed everything it read, and they stopped
    moving."""
    with contextlib.suppress(ChaosError):  # what never gets counted is reported as lost
        run.wait_until(lambda: run.unprocessed(settings) == 0, "committing every input")
    previous = None
    for _ in range(30):
        tallies = read_changelog(settings, run.topics.changelog("journey_to_tally"))
        counters = read_changelog(settings, run.topics.changelog("input_counts")).get("inputs", {}).get("counts", {})
        queue = queued_callbacks(run.redis_url)
        state = {"tallies": tallies, "counters": counters, "queue": queue}
        if state == previous:
            return state
        previous = state
        time.sleep(2)
    return previous or {}


# ---------------------------------------------------------------- comparison


@dataclass
class Outcome:
    scenario: str
    events: int
    faults: list[str]
    lost: int
    duplicated: int
    redelivered: int
    counted_in: int
    processed: int
    dead_lettered: int
    reconciled: bool
    figures_equal: str
    types_equal: str
    callbacks: int
    recovery_seconds: list[float]
    changelog_seconds: list[float]
    detail: dict[str, Any]

    @property
    def passed(self) -> bool:
        return not self.lost and not self.duplicated and self.reconciled and self.detail["figures_differ"] == []


def _same(a: tuple[int, int, float, float] | None, b: tuple[int, int, float, float] | None) -> bool:
    """Equal counts, and sums equal but for the order floats were added in."""
    if a is None or b is None:
        return a is b
    return a[:2] == b[:2] and abs(a[2] - b[2]) < 1e-6 and abs(a[3] - b[3]) < 1e-6


def compare(run: Run, state: dict[str, Any], reference: dict[str, Any], requests: int, ref_requests: int) -> Outcome:
    counters = state["counters"]
    processed = counters.get("processed", 0)
    dead = sum(v for k, v in counters.items() if k.startswith("dead:"))
    counted_in = counters.get("in", 0)
    figures, ref_figures = window_figures(state["tallies"]), window_figures(reference["tallies"])
    differ = sorted(k for k in ref_figures.keys() | figures.keys() if not _same(figures.get(k), ref_figures.get(k)))
    types, ref_types = mirror_types(state["tallies"]), mirror_types(reference["tallies"])
    seen, ref_seen = verbatims(state["tallies"]), verbatims(reference["tallies"])
    queue, ref_queue = state["queue"], reference["queue"]
    customers, ref_customers = set(queue["customers"]), set(ref_queue["customers"])
    missing_verbatims = sum(max(0, ref_seen[k] - seen[k]) for k in ref_seen)
    extra_verbatims = sum(max(0, seen[k] - ref_seen[k]) for k in seen)
    queued_twice = sum(n - 1 for n in queue["entries"].values())
    requests_missing = ref_queue["decided"] - queue["decided"]  # a request the queue never saw
    requests_unexpected = queue["decided"] - ref_queue["decided"]
    return Outcome(
        scenario=run.name,
        events=run.replay.sent,
        faults=run.faults,
        lost=(run.replay.sent - counted_in)
        + missing_verbatims
        + len(requests_missing)
        + len(ref_customers - customers),
        duplicated=extra_verbatims + queued_twice + len(customers - ref_customers) + len(requests_unexpected),
        redelivered=max(0, requests - ref_requests),
        counted_in=counted_in,
        processed=processed,
        dead_lettered=dead,
        reconciled=counted_in == processed + dead == run.replay.sent,
        figures_equal=f"{len(ref_figures) - len(differ)}/{len(ref_figures)}",
        types_equal=f"{sum(types.get(k) == v for k, v in ref_types.items())}/{len(ref_types)}",
        callbacks=len(queue["entries"]),
        recovery_seconds=run.recoveries,
        changelog_seconds=run.changelog_reads,
        detail={
            "figures_differ": differ[:20],
            "types_differ": sorted(k for k, v in ref_types.items() if types.get(k) != v)[:20],
            "missing_verbatims": missing_verbatims,
            "extra_verbatims": extra_verbatims,
            "callbacks_queued_twice": queued_twice,
            "requests_missing": sorted(requests_missing)[:20],
            "requests_unexpected": sorted(requests_unexpected)[:20],
            "customers_missing_a_callback": sorted(ref_customers - customers)[:20],
            "customers_with_unexpected_callback": sorted(customers - ref_customers)[:20],
            "dead_letters_by_reason": {k[5:]: v for k, v in counters.items() if k.startswith("dead:")},
        },
    )


# ---------------------------------------------------------------- the whole run


def run_scenario(
    settings: Settings, name: str, replay: Replay, redis_db: int, options: ChaosOptions, console: Console
) -> tuple[Run, dict[str, Any], int]:
    import redis

    from infra.topics import ensure_topics

    count, starting, fault = FAULTS[name]
    env, app_id, redis_url = scenario_env(settings, name, replay, redis_db)
    ensure_topics(settings, [env["MIROIR_CALLBACK_REQUEST_TOPIC"]])
    redis.Redis.from_url(redis_url).flushdb()
    logs = settings.stack.run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    workers = [
        Worker(env, i, settings.stack.run_dir / "worker" / f"{app_id}-{i}", logs / f"worker-{app_id}.log")
        for i in range(count)
    ]
    run = Run(name, app_id, redis_url, replay, workers)
    console.print(f"chaos: {name}: {count} worker(s) of {app_id} (log {workers[0].log})")
    started = time.monotonic()
    try:
        for worker in workers[:starting]:
            worker.start()
        run.wait_until(run.owns_every_input, "the workers taking their partitions", timeout=180)
        fault(run, settings, options, console)
        state = settled_state(settings, run)
        requests = topic_size(settings, env["MIROIR_CALLBACK_REQUEST_TOPIC"])
        if not workers[0].alive():
            raise ChaosError(f"{name}: the worker died; see {workers[0].log}")
    finally:
        for worker in workers:
            worker.stop()
    console.print(f"chaos: {name}: done in {time.monotonic() - started:.0f}s")
    return run, state, requests


def run_chaos(settings: Settings, options: ChaosOptions, console: Console) -> list[Outcome]:
    unknown = set(options.scenarios) - set(SCENARIOS)
    if unknown:
        raise ChaosError(f"unknown scenario(s) {', '.join(sorted(unknown))}; choose among {', '.join(SCENARIOS)}")
    restarted = {"broker-restart": ("kafka", "kafka.Kafka"), "redis-outage": ("redis", "redis-server")}
    for scenario in set(options.scenarios) & set(restarted):
        _require_own(settings, scenario, *restarted[scenario])
    name = f"chaos-{time.strftime('%Y%m%d-%H%M%S')}"
    replay = produce_replay(settings, name, options, console)
    _, reference, ref_requests = run_scenario(settings, "reference", replay, FIRST_REDIS_DB, options, console)
    outcomes = []
    for i, scenario in enumerate(options.scenarios, start=1):
        run, state, requests = run_scenario(settings, scenario, replay, FIRST_REDIS_DB + i, options, console)
        outcomes.append(compare(run, state, reference, requests, ref_requests))
    return outcomes


def _require_own(settings: Settings, scenario: str, service: str, marker: str) -> None:
    """Stopping and starting a service needs the one `miroir stack up` started from this run folder."""
    from infra.stack import Paths, running_pid

    if running_pid(Paths(settings), service, marker) is None:
        raise ChaosError(
            f"{scenario} stops and starts {service}, but no {service} started by `miroir stack up` from "
            f"{settings.stack.run_dir} runs (another one answers, or none). Run `miroir stack down` and "
            f"`miroir stack up` here, or leave {scenario} out (--scenarios)."
        )


def chaos_table(outcomes: list[Outcome]) -> Table:
    table = Table(
        "scenario",
        "events",
        "faults",
        "lost",
        "duplicated",
        "redelivered",
        "in = processed + dead",
        "windows = reference",
        "types = reference",
        "callbacks",
        "recovery s (median / max)",
        "changelog read s (max)",
        title="Fault scenarios against an uninterrupted run of the same replay",
        title_justify="left",
    )
    for o in outcomes:
        recovery = (
            f"{statistics.median(o.recovery_seconds):.1f} / {max(o.recovery_seconds):.1f}"
            if o.recovery_seconds
            else "-"
        )
        table.add_row(
            o.scenario,
            f"{o.events:,}",
            str(len(o.faults)),
            _flag(o.lost),
            _flag(o.duplicated),
            f"{o.redelivered:,}",
            f"{o.counted_in:,} = {o.processed:,} + {o.dead_lettered:,}" + ("" if o.reconciled else " ✗"),
            o.figures_equal,
            o.types_equal,
            f"{o.callbacks:,}",
            recovery,
            f"{max(o.changelog_seconds):.2f}" if o.changelog_seconds else "-",
        )
    return table


def _flag(n: int) -> str:
    return "0" if n == 0 else f"[bold red]{n:,}[/]"


def report(outcomes: list[Outcome], options: ChaosOptions, console: Console, output: Path) -> Path:
    Console(width=max(console.width, 160)).print(chaos_table(outcomes))
    for o in outcomes:
        if o.detail["types_differ"]:
            console.print(
                f"{o.scenario}: {len(o.detail['types_differ'])} published type(s) differ with equal windows: "
                "the step sits inside the hysteresis band, where the type depends on the order batches came in"
            )
    output.mkdir(parents=True, exist_ok=True)
    path = output / f"chaos-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"options": asdict(options), "outcomes": [asdict(o) for o in outcomes]}, indent=2))
    console.print(f"chaos: results in {path}")
    return path
