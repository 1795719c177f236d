"""Start and stop `miroir worker` processes: the demo's pilot, the bench's workers, chaos's victims, the tests'.

Each worker is a process of its own session (a signal to its group reaches all it
started), logging to a file, answering on a web port of its own; its counters say
which input partitions it owns. `pilot_workers` starts a fresh pilot: its own app id
(so its own consumer group, tables and windows), reading only what comes after it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from config.settings import PipelineSettings, Settings
from config.topics import Topics
from tools.readout import WorkerUnavailable, fetch

ASSIGNMENT_TIMEOUT = 180.0
STOP_TIMEOUT = 30.0


def free_port(preferred: int = 0) -> int:
    """`preferred` if it is free, else a free port the system picks (0: any)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def worker_settings(env: Mapping[str, str]) -> PipelineSettings:
    """The pipeline settings a worker started with `env` reads: its app id, its topic names... (what
    `env` leaves out, as this process's environment has it)."""
    prefix = str(PipelineSettings.model_config.get("env_prefix", ""))
    given: dict[str, Any] = {
        name: env[key] for name in PipelineSettings.model_fields if (key := f"{prefix}{name}".upper()) in env
    }
    return PipelineSettings(**given)


class Worker:
    """One `miroir worker` process that can be killed and started again on the same port."""

    def __init__(self, env: Mapping[str, str], port: int, data_dir: Path, log: Path, level: str = "info") -> None:
        self.port = free_port(port)
        self.env = {**env, "MIROIR_WEB_PORT": str(self.port), "MIROIR_DATA_DIR": str(data_dir)}
        self.log = log
        self.level = level  # "info" for changelog_seconds: faust logs its changelog reads at info
        self.process: subprocess.Popen[bytes] | None = None
        self.log_from = 0  # where this start's lines begin in the (shared, appended) log

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self) -> None:
        self.log_from = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "miroir.cli", "worker", "-l", self.level],
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

    def terminate(self) -> None:
        """SIGTERM, without waiting: the worker commits, flushes and leaves its group."""
        if self.alive():
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGTERM)

    def wait_stopped(self, timeout: float = STOP_TIMEOUT) -> None:
        """Until a terminated worker has ended; SIGKILLed if it takes longer than `timeout`."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def stop(self) -> None:
        if self.alive():
            self.terminate()
            self.wait_stopped()

    def counters(self) -> dict[str, Any] | None:
        try:
            return fetch(self.url, "/counters/", timeout=2) if self.alive() else None
        except WorkerUnavailable:
            return None

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


def _log_time(line: str) -> float | None:
    """Epoch seconds of a faust log line ("[2026-11-23 13:24:44,531] ...")."""
    try:
        return datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    except ValueError:
        return None


def assigned(workers: Iterable[Worker]) -> set[str]:
    """The "topic:partition"s the live workers own, as their counters say."""
    return {a for w in workers if (c := w.counters()) for a in c.get("assigned", [])}


def wait_for_assignment(workers: list[Worker], inputs: Iterable[str], timeout: float = ASSIGNMENT_TIMEOUT) -> None:
    """Until every worker owns partitions and, together, they own some of each input topic."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not all(worker.alive() for worker in workers):
            raise RuntimeError(f"a worker exited; see {workers[0].log}")
        owned = [assigned([worker]) for worker in workers]
        together = set().union(*owned)
        if all(owned) and all(any(a.startswith(f"{topic}:") for a in together) for topic in inputs):
            return
        time.sleep(1)
    raise RuntimeError(f"the workers did not get their partitions within {timeout:.0f}s; see {workers[0].log}")


def start_at_the_end(settings: Settings, topics: Topics, inputs: bool = True) -> None:
    """Commit the current end offsets of the topics a new pilot reads, for its groups (faust's,
    the app id; the callback sink's), before its workers start.

    `auto_offset_reset=latest` would do the same, but only once a worker first fetches a
    partition, after the group assigned it: what was produced in between was skipped, and a
    pilot started under load missed its first inputs.

    The callback sink's group always starts at the end: a pilot that reads its inputs from the
    earliest (`inputs=False`) makes its own callback requests, and the ones every earlier pilot
    made are in the queue already (re-reading them, all refused as duplicates, cost a bench 45 %
    of its worker's time)."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    groups = {topics.callback_sink_group: [topics.callback_requests]}
    if inputs:
        groups[topics.app_id] = [*topics.inputs(), topics.callback_outcomes]
    for group, names in groups.items():
        consumer = KafkaConsumer(**settings.kafka.client_config(), group_id=group, enable_auto_commit=False)
        try:
            partitions = [TopicPartition(t, p) for t in names for p in consumer.partitions_for_topic(t) or ()]
            ends = consumer.end_offsets(partitions)
            consumer.assign(partitions)
            consumer.commit({tp: OffsetAndMetadata(end, "", -1) for tp, end in ends.items()})
        finally:
            consumer.close()


@contextmanager
def pilot_workers(
    settings: Settings, console: Console, count: int = 1, env: dict[str, str] | None = None
) -> Iterator[list[str]]:
    """Start `count` workers of one fresh pilot (one app id); yield their URLs once together they
    own every input partition. `env` overrides settings (e.g. MIROIR_SURVEY_TOPIC).

    The pilot reads what is produced from now on: unless `env` says
    MIROIR_AUTO_OFFSET_RESET=earliest, its groups start at the topics' current ends (its callback
    sink's, always)."""
    app_id = f"{settings.pipeline.app_id}-pilot-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid() % 1000}"
    pilot_env = {
        **os.environ,
        "MIROIR_APP_ID": app_id,
        "MIROIR_AUTO_OFFSET_RESET": "earliest",
        "MIROIR_SNAPSHOT_INTERVAL": "10s",
        "MIROIR_EXIT_WITH_PARENT": "1",
        **(env or {}),
    }
    start_at_the_end(settings, worker_settings(pilot_env).topics, inputs="MIROIR_AUTO_OFFSET_RESET" not in (env or {}))
    log_path = settings.stack.run_dir / "logs" / f"worker-{app_id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    console.print(f"worker: starting pilot {app_id} ({count} worker(s), log {log_path})")
    data = settings.stack.run_dir / "worker"
    workers = [
        Worker(pilot_env, settings.pipeline.web_port + i, data / f"{app_id}-{i}", log_path, level="warn")
        for i in range(count)
    ]
    try:
        for worker in workers:
            worker.start()
        wait_for_assignment(workers, worker_settings(pilot_env).topics.inputs())
        urls = [worker.url for worker in workers]
        console.print(f"worker: ready — the live mirror page at {urls[0]}/ (JSON at {urls[0]}/mirror/)")
        yield urls
    finally:
        for worker in workers:  # SIGTERM to all first: they shut down together, not one after another
            worker.terminate()
        for worker in workers:
            worker.wait_stopped()


@contextmanager
def pilot_worker(settings: Settings, console: Console) -> Iterator[str]:
    """One worker for a fresh pilot; yields its URL once it owns the input partitions."""
    with pilot_workers(settings, console) as urls:
        yield urls[0]
