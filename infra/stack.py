"""The local stack without Docker: Apache Kafka (KRaft, one node), Redis and the intake.

`up` resolves the pinned broker jars with Maven (once), formats the KRaft
storage (once), starts `kafka.Kafka` and `redis-server` as their own process
groups, waits until each answers, creates the topics, then starts the HTTP
intake (`miroir intake serve`) and waits until its /healthz says 200. `down`
stops only the processes whose pid files `up` wrote. Everything lives under the
run folder (`MIROIR_RUN_DIR`, default `.run/`).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from config.settings import Settings
from infra.broker import kafka_answers, start_kafka, stop_kafka
from infra.processes import LOCAL_HOSTS, Echo, Paths, StackError, port_answers, running_pid, spawn, stop, wait_until

INFRA_DIR = Path(__file__).parent


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    port: int
    pid: int | None
    answering: bool

    @property
    def state(self) -> str:
        if self.answering:
            return "running" if self.pid else "answering (not started by miroir)"
        return "starting or hung" if self.pid else "stopped"


# ---------------------------------------------------------------- Redis


def redis_answers(settings: Settings) -> bool:
    import redis

    client = redis.Redis.from_url(settings.redis.dsn, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def start_redis(settings: Settings, paths: Paths, echo: Echo) -> None:
    port = settings.redis.port
    if settings.redis.host not in LOCAL_HOSTS:
        raise StackError(f"MIROIR_REDIS_URL points at {settings.redis.host}; the local stack runs Redis on localhost.")
    if running_pid(paths, "redis", "redis-server"):
        echo(f"redis: already running on port {port}")
        return
    if port_answers(port):
        raise StackError(
            f"port {port} is already in use by a process miroir did not start (a system Redis?). "
            "Stop it, or choose another port: MIROIR_REDIS_URL=redis://localhost:PORT/0."
        )
    server = shutil.which("redis-server")
    if server is None:
        raise StackError("redis-server is not installed (apt-get install redis-server).")
    paths.redis.mkdir(parents=True, exist_ok=True)
    password = settings.redis.password
    config = paths.redis / "redis.conf"
    config.write_text(
        (INFRA_DIR / "redis" / "redis.conf.template")
        .read_text()
        .format(
            port=port,
            data_dir=paths.redis,
            requirepass=f"requirepass {password}" if password else "",
        )
    )
    config.chmod(0o600)
    pid = spawn(paths, "redis", [server, str(config)])
    echo(f"redis: starting redis-server (pid {pid}) on port {port}, append-only file on")
    wait_until(lambda: redis_answers(settings), 30, "Redis", paths.logfile("redis"), pid)
    echo("redis: answering")


# ---------------------------------------------------------------- the intake

INTAKE_MARKER = "miroir.cli intake serve"
INTAKE_SERVICE = "miroir-intake"  # what its /healthz calls itself


def _intake_health(settings: Settings) -> tuple[int, dict[str, object]] | None:
    """The intake's /healthz status and body, or None when nothing (or not JSON) answers."""
    try:
        with urllib.request.urlopen(f"{settings.intake.url}/healthz", timeout=3) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:  # a 503 still comes from an intake
        try:
            return error.code, json.load(error)
        except ValueError:
            return None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def intake_healthy(settings: Settings) -> bool:
    """The intake's /healthz says 200: it reaches Kafka (with the input topics) and Redis."""
    health = _intake_health(settings)
    return health is not None and health[0] == 200


def intake_answers(settings: Settings) -> bool:
    """An intake answers on its port (healthy or not: Kafka's and Redis's own rows say why not)."""
    health = _intake_health(settings)
    return health is not None and health[1].get("service") == INTAKE_SERVICE


def _intake_env(settings: Settings) -> dict[str, str]:
    """This environment, with the path settings made absolute (the intake runs from the run folder)."""
    env = dict(os.environ)
    for name, path in (
        ("MIROIR_THRESHOLDS_FILE", settings.pipeline.thresholds_file),
        ("MIROIR_KAFKA_SSL_CAFILE", settings.kafka.ssl_cafile),
    ):
        if path is not None:
            env[name] = str(path.resolve())
    return env


def start_intake(settings: Settings, paths: Paths, echo: Echo) -> None:
    url, port = settings.intake.url, settings.intake.port
    if running_pid(paths, "intake", INTAKE_MARKER):
        echo(f"intake: already running at {url}")
        return
    if port_answers(port):
        if intake_answers(settings):
            echo(f"intake: already answering at {url} (not started by miroir)")
            return
        raise StackError(
            f"port {port} is already in use by a process miroir did not start. "
            "Stop it, or choose another port: MIROIR_INTAKE_PORT=PORT."
        )
    pid = spawn(paths, "intake", [sys.executable, "-m", "miroir.cli", "intake", "serve"], env=_intake_env(settings))
    echo(f"intake: starting `miroir intake serve` (pid {pid}) on port {port}")
    wait_until(lambda: intake_healthy(settings), 60, "The intake", paths.logfile("intake"), pid)
    echo(f"intake: answering at {url}/v1/ (API docs at {url}/docs)")


def stop_intake(settings: Settings, echo: Echo = print) -> None:
    stop(Paths(settings), "intake", INTAKE_MARKER, echo)


# ---------------------------------------------------------------- the stack


def up(settings: Settings, echo: Echo = print) -> None:
    from infra.topics import ensure_topics

    paths = Paths(settings)
    paths.run.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    start_kafka(settings, paths, echo)
    start_redis(settings, paths, echo)
    created = ensure_topics(settings)
    if created:
        echo(f"topics: created {', '.join(created)}")
    start_intake(settings, paths, echo)
    echo(f"stack up in {time.monotonic() - started:.1f}s (logs in {paths.logs})")


def down(settings: Settings, echo: Echo = print) -> None:
    stop_intake(settings, echo)
    stop_redis(settings, echo)
    stop_kafka(settings, echo)


def stop_redis(settings: Settings, echo: Echo = print) -> None:
    stop(Paths(settings), "redis", "redis-server", echo)


def status(settings: Settings) -> list[ServiceStatus]:
    paths = Paths(settings)
    return [
        ServiceStatus(
            "kafka",
            settings.kafka.first_server[1],
            running_pid(paths, "kafka", "kafka.Kafka"),
            kafka_answers(settings),
        ),
        ServiceStatus(
            "redis", settings.redis.port, running_pid(paths, "redis", "redis-server"), redis_answers(settings)
        ),
        ServiceStatus(
            "intake",
            settings.intake.port,
            running_pid(paths, "intake", INTAKE_MARKER),
            intake_answers(settings),
        ),
    ]
