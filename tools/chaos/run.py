"""One scenario's run: its workers (own app id, callback-requests topic and Redis database), what was
done to them, and the waits on what they count."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlparse

from config.settings import Settings
from config.topics import CALLBACK_REQUESTS, Topics
from tools.chaos.options import ChaosError
from tools.chaos.replay import Replay
from tools.chaos.state import lag, read_changelog
from tools.workers import Worker, assigned

STALL_SECONDS = 120.0


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
        owned = assigned(self.workers)
        return all(
            f"{topic}:{p}" in owned
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
