"""The notifier's faults: the SMTP server stopped for a while, the webhook receiver answering 500
for a while, the worker SIGKILLed while sends are in flight, each while callbacks keep coming.

Like the intake's scenarios there is no reference run: the feed knows every callback it asked for,
and each admitted callback must give exactly one e-mail per manager of its site and one post to the
JSON webhook, checked by delivery id (tools/bench/notify_rig.py). Lost: a delivery that never
arrived, or a response never admitted. Duplicated: a second copy that neither a fault between the
two nor a send the notifier recorded as failed explains, or an id nobody expected. Redelivered: a
second copy of the same id the notifier's windows explain (the endpoint took it; the notifier died,
or gave up waiting for its answer, before it marked it sent); reported, not hidden. Recovery: from
the end of the fault (the server started again, the 500s over, the worker started again) until
every notification of the callbacks asked for before it had arrived.

The worker runs with short retries (first after 1 s, at most 5 s apart) and short send timeouts
(2 s: a notifier's lease on the deliveries it takes is three times the longest timeout plus 30 s, so
a SIGKILL leaves its in-flight deliveries for 36 s before a restarted notifier takes them again).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console

from config.settings import Settings
from tools.bench.notify_rig import EMAIL, JSON, Feed, NotifyRig, notify_rig
from tools.bench.notify_tally import first_arrivals, tally
from tools.chaos.compare import Outcome
from tools.chaos.options import ChaosError, ChaosOptions
from tools.chaos.replay import Replay
from tools.chaos.run import Run, scenario_env
from tools.chaos.state import settled_state
from tools.workers import Worker

SHORT_RETRIES = {
    "MIROIR_NOTIFY_RETRY_FIRST": "1s",
    "MIROIR_NOTIFY_RETRY_MAX": "5s",
    "MIROIR_NOTIFY_ORPHAN_IDLE": "10s",
    "MIROIR_NOTIFY_SMTP_TIMEOUT": "2s",
    "MIROIR_NOTIFY_WEBHOOK_TIMEOUT": "2s",
}
MANAGERS_PER_SITE = 2
SITES = 2
SETTLE_TIMEOUT = 180.0  # the lease (36 s) and the longest backoff fit many times over
QUIET_AFTER = 3.0  # once nothing is pending: time for a copy sent twice to arrive
IN_FLIGHT = 10  # deliveries a notifier must hold for a kill to be mid-batch


class Scene:
    """One notify scenario's worker, rig and feed, with the fault times and recoveries."""

    def __init__(self, run: Run, rig: NotifyRig, feed: Feed, options: ChaosOptions, console: Console) -> None:
        self.run, self.rig, self.feed, self.options, self.console = run, rig, feed, options, console
        self.faults_at: list[float] = []  # time.time() of each fault: copies across one are in its window
        self.first_after: list[float] = []  # seconds from a fault's end to the next notification
        self.in_flight: list[int] = []

    def wait_fed(self, count: int) -> None:
        self.run.wait_until(lambda: len(self.feed.produced) >= count, f"feeding {count} responses")

    def arrived(self) -> dict[str, float]:
        return first_arrivals(self.rig.arrivals())

    def recovered(self, ended: float, channel: str | None = None) -> float:
        """Seconds from `ended` (time.time(): the fault's end) until every notification of the
        callbacks asked for before it arrived; recorded, with the first one (on `channel`) after it."""
        expected = self.rig.expected(self.feed.callbacks(before=ended))
        try:
            self.run.wait_until(lambda: expected.keys() <= self.arrived().keys(), "catching up", timeout=SETTLE_TIMEOUT)
        except ChaosError as error:
            raise ChaosError(f"{error}: {self.missing(expected)}") from None
        after = [at for delivery, c, at in self.rig.arrivals() if at > ended and channel in (None, c)]
        self.first_after.append(round(min(after, default=ended) - ended, 1))
        seconds = round(time.time() - ended, 1)
        self.run.recoveries.append(seconds)
        return seconds

    def missing(self, expected: dict[str, tuple[str, str]]) -> str:
        """What a stalled catch-up still lacks, and where it stopped: never admitted (the pipeline or
        the callback sink) or admitted and not delivered (the notifier)."""
        lacking = sorted({callback for d, (callback, _) in expected.items() if d not in self.arrived()})
        admitted = _admitted(self.rig.redis_url, lacking)
        return (
            f"{len(lacking)} callbacks lack notifications, {len(lacking) - len(admitted)} of them never admitted "
            f"(e.g. {sorted(set(lacking) - set(admitted))[:3]}), {self.rig.pending()} deliveries pending"
        )


def _admitted(redis_url: str, callbacks: list[str]) -> list[str]:
    """Those of `callbacks` that are in the queue (admitted by the worker's callback sink)."""
    import redis

    from sinks.callback_queue import callback_key

    client = redis.Redis.from_url(redis_url)
    try:
        with client.pipeline(transaction=False) as pipe:
            for callback in callbacks:
                pipe.exists(callback_key(callback))
            found = pipe.execute()
    finally:
        client.close()
    return [callback for callback, exists in zip(callbacks, found, strict=True) if exists]


def smtp_down(scene: Scene) -> None:
    """Stop the SMTP server while callbacks keep coming; start it again on the same port."""
    outage = scene.options.notify_outage
    scene.wait_fed(scene.options.notify_callbacks * 3 // 10)
    scene.rig.smtp.stop()
    scene.faults_at.append(time.time())
    time.sleep(outage)
    scene.rig.smtp.start()
    ended = time.time()
    seconds = scene.recovered(ended, EMAIL)
    scene.run.faults.append(f"SMTP server down {outage:.0f}s")
    scene.console.print(f"chaos: {scene.run.name}: SMTP back; every e-mail due then arrived after {seconds:.1f}s")


def webhook_500(scene: Scene) -> None:
    """The webhook receiver answers 500 for a while (an endpoint down behind its load balancer)."""
    outage = scene.options.notify_outage
    scene.wait_fed(scene.options.notify_callbacks * 3 // 10)
    scene.rig.hooks.fail_for(outage)
    scene.faults_at.append(time.time())
    time.sleep(outage)
    ended = time.time()
    seconds = scene.recovered(ended, JSON)
    scene.run.faults.append(f"webhook answering 500 for {outage:.0f}s")
    scene.console.print(f"chaos: {scene.run.name}: webhook answers again; caught up after {seconds:.1f}s")


def kill_notifier(scene: Scene) -> None:
    """SIGKILL the worker while its notifier is sending a burst of callbacks' notifications, and
    start it again at once (same port, so its notifier's name: it takes its outbox entries back)."""
    worker, options = scene.run.workers[0], scene.options
    for k in range(1, options.notify_kills + 1):
        scene.wait_fed(options.notify_callbacks * k // (options.notify_kills + 1))
        # A batch of its own for the notifier to be in the middle of: killed the moment it holds
        # deliveries it took (leased: sending, or waiting for a free send slot) and has not marked.
        scene.feed.send(options.notify_burst)
        scene.run.wait_until(partial(_sending, scene), "the notifier sending the burst", timeout=60)
        worker.kill()
        killed = time.time()
        scene.faults_at.append(killed)
        scene.in_flight.append(scene.rig.pending(after=killed + 1))  # leased by the dead notifier
        worker.start()
        seconds = scene.recovered(killed)
        scene.run.faults.append(f"SIGKILL with {scene.in_flight[-1]} deliveries in flight")
        scene.console.print(
            f"chaos: {scene.run.name}: killed with {scene.in_flight[-1]} deliveries in flight; "
            f"every notification due then arrived after {seconds:.1f}s"
        )


def _sending(scene: Scene) -> bool:
    return scene.rig.pending(after=time.time() + 1) >= IN_FLIGHT  # leases end 36 s on; retries: none here


NOTIFY_FAULTS: dict[str, Callable[[Scene], None]] = {
    "notify-smtp-down": smtp_down,
    "notify-webhook-500": webhook_500,
    "notify-kill": kill_notifier,
}


def run_notify_scenario(settings: Settings, name: str, options: ChaosOptions, console: Console) -> Outcome:
    from infra.topics import ensure_topics

    tag = f"chaos-{name}-{time.strftime('%H%M%S')}"
    replay = Replay(f"{tag}-survey", f"{tag}-staff", 0, settings.kafka.topic_partitions)
    env, app_id, _ = scenario_env(settings, name, replay, 0)
    ensure_topics(settings, [replay.survey_topic, replay.staff_topic, env["MIROIR_CALLBACK_REQUEST_TOPIC"]])
    logs = settings.stack.run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    sites = tuple(f"{tag}-s{k}" for k in range(SITES))
    with (
        tempfile.TemporaryDirectory(prefix="miroir-chaos-notify-") as tmp,
        notify_rig(sites, MANAGERS_PER_SITE, Path(tmp)) as rig,
    ):
        env = {**env, **rig.env, **SHORT_RETRIES}
        data = settings.stack.run_dir / "worker" / app_id
        worker = Worker(env, int(env["MIROIR_WEB_PORT"]), data, logs / f"worker-{app_id}.log", level="info")
        run = Run(name, app_id, rig.redis_url, replay, [worker])
        feed = Feed(settings, replay.survey_topic, sites, tag)
        scene = Scene(run, rig, feed, options, console)
        feeding = threading.Thread(
            target=feed.run, args=(options.notify_callbacks, options.notify_rate), name="chaos-feed", daemon=True
        )
        console.print(
            f"chaos: {name}: {options.notify_callbacks:,} callbacks at {options.notify_rate:.0f}/s to "
            f"{app_id} (log {worker.log})"
        )
        try:
            worker.start()
            run.wait_until(run.owns_every_input, "the worker taking its partitions", timeout=180)
            feeding.start()
            NOTIFY_FAULTS[name](scene)
            feeding.join(timeout=options.notify_callbacks / options.notify_rate + 120)
            if feeding.is_alive():
                raise ChaosError(f"{name}: the feed did not finish")
            run.replay = Replay(replay.survey_topic, replay.staff_topic, len(feed.produced), replay.partitions)
            _settle(scene)
            state = settled_state(settings, run)
            if not worker.alive():
                raise ChaosError(f"{name}: the worker died; see {worker.log}")
        finally:
            worker.stop()
            feed.close()
        return notify_outcome(scene, state)


def _settle(scene: Scene) -> None:
    """Until every notification of every callback asked for arrived and nothing is pending (a
    leased delivery would be sent again once its lease ends), then a little longer."""
    expected = scene.rig.expected(scene.feed.callbacks())
    try:
        scene.run.wait_until(
            lambda: expected.keys() <= scene.arrived().keys() and scene.rig.pending() == 0,
            "every notification arriving",
            timeout=SETTLE_TIMEOUT,
        )
    except ChaosError as error:
        raise ChaosError(f"{error}: {scene.missing(expected)}") from None
    time.sleep(QUIET_AFTER)


def notify_outcome(scene: Scene, state: dict[str, Any]) -> Outcome:
    counters, run = state["counters"], scene.run
    admitted = {cb: scene.feed.produced[cb][0] for cb in state["queue"]["entries"] if cb in scene.feed.produced}
    failed = scene.rig.failed_sends()
    counts = tally(scene.rig.expected(admitted), scene.rig.arrivals(), tuple(scene.faults_at), failed)
    processed, duplicates = counters.get("processed", 0), counters.get("duplicate", 0)
    dead = sum(v for k, v in counters.items() if k.startswith("dead:"))
    produced = len(scene.feed.produced)
    queued_twice = sum(n - 1 for n in state["queue"]["entries"].values())
    return Outcome(
        scenario=run.name,
        events=produced,
        faults=run.faults,
        lost=counts["missing"] + (produced - len(admitted)),
        duplicated=counts["duplicates_outside_window"] + counts["unexpected_ids"] + queued_twice,
        redelivered=counts["redelivered_in_fault_window"] + counts["redelivered_after_failed_send"],
        counted_in=counters.get("in", 0),
        processed=processed,
        dead_lettered=dead,
        duplicates=duplicates,
        reference_duplicates=0,  # every response is sent once
        reconciled=counters.get("in", 0) == processed + dead + duplicates == produced and duplicates == 0,
        figures_equal="-",
        types_equal="-",
        callbacks=len(admitted),
        recovery_seconds=run.recoveries,
        changelog_seconds=[],
        detail={
            "figures_differ": [],
            "types_differ": [],
            **counts,
            "webhook_posts_refused": scene.rig.refused_posts(),
            "deliveries_with_failed_sends": len(failed),
            "first_notification_after_s": scene.first_after,
            "in_flight_at_kill": scene.in_flight,
        },
    )
