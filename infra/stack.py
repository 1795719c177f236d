"""The local stack without Docker: Apache Kafka (KRaft, one node) and Redis.

`up` resolves the pinned broker jars with Maven (once), formats the KRaft
storage (once), starts `kafka.Kafka` and `redis-server` as their own process
groups, waits until each answers and creates the topics. `down` stops only the
processes whose pid files `up` wrote. Everything lives under the run folder
(`MIROIR_RUN_DIR`, default `.run/`).
"""

from __future__ import annotations

import shutil
import time
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
    echo(f"stack up in {time.monotonic() - started:.1f}s (logs in {paths.logs})")


def down(settings: Settings, echo: Echo = print) -> None:
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
    ]
