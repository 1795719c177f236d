"""The local stack without Docker: Apache Kafka (KRaft, one node), Redis, the intake and the managers' app.

`up` resolves the pinned broker jars with Maven (once), formats the KRaft
storage (once), starts `kafka.Kafka` and `redis-server` as their own process
groups, waits until each answers, creates the topics, then starts the HTTP
services (`miroir intake serve`, `miroir managers serve`) and waits until each
/healthz says 200. `down` stops only the processes whose pid files `up` wrote.
Everything lives under the run folder (`MIROIR_RUN_DIR`, default `.run/`).
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


# ---------------------------------------------------------------- the HTTP services


@dataclass(frozen=True)
class HttpService:
    """One of the stack's HTTP services: `miroir <name> serve`, its own process, answering /healthz."""

    name: str  # also its pid and log files' name
    service: str  # what its /healthz calls itself
    url: str
    port: int
    port_variable: str
    ready: str  # what `up` says once it answers

    @property
    def marker(self) -> str:
        return f"miroir.cli {self.name} serve"


def intake_service(settings: Settings) -> HttpService:
    url = settings.intake.url
    return HttpService(
        "intake",
        "miroir-intake",
        url,
        settings.intake.port,
        "MIROIR_INTAKE_PORT",
        f"{url}/v1/ (API docs at {url}/docs)",
    )


def managers_service(settings: Settings) -> HttpService:
    url = settings.managers.url
    return HttpService(
        "managers", "miroir-managers", url, settings.managers.port, "MIROIR_MANAGERS_PORT", f"{url}/signin"
    )


def _health(service: HttpService) -> tuple[int, dict[str, object]] | None:
    """The service's /healthz status and body, or None when nothing (or not JSON) answers."""
    try:
        with urllib.request.urlopen(f"{service.url}/healthz", timeout=3) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:  # a 503 still comes from the service
        try:
            return error.code, json.load(error)
        except ValueError:
            return None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def healthy(service: HttpService) -> bool:
    """Its /healthz says 200: it reaches Kafka and Redis."""
    health = _health(service)
    return health is not None and health[0] == 200


def answers(service: HttpService) -> bool:
    """It answers on its port (healthy or not: Kafka's and Redis's own rows say why not)."""
    health = _health(service)
    return health is not None and health[1].get("service") == service.service


def _service_env(settings: Settings) -> dict[str, str]:
    """This environment, with the path settings made absolute (the services run from the run folder)."""
    env = dict(os.environ)
    for name, path in (
        ("MIROIR_THRESHOLDS_FILE", settings.pipeline.thresholds_file),
        ("MIROIR_KAFKA_SSL_CAFILE", settings.kafka.ssl_cafile),
        ("MIROIR_MANAGERS_SITES_FILE", settings.managers.sites_file),
    ):
        if path is not None:
            env[name] = str(path.resolve())
    return env


def start_service(settings: Settings, paths: Paths, echo: Echo, service: HttpService) -> None:
    name, url, port = service.name, service.url, service.port
    if running_pid(paths, name, service.marker):
        echo(f"{name}: already running at {url}")
        return
    if port_answers(port):
        if answers(service):
            echo(f"{name}: already answering at {url} (not started by miroir)")
            return
        raise StackError(
            f"port {port} is already in use by a process miroir did not start. "
            f"Stop it, or choose another port: {service.port_variable}=PORT."
        )
    argv = [sys.executable, "-m", "miroir.cli", name, "serve"]
    pid = spawn(paths, name, argv, env=_service_env(settings))
    echo(f"{name}: starting `miroir {name} serve` (pid {pid}) on port {port}")
    wait_until(lambda: healthy(service), 60, f"The {name} service", paths.logfile(name), pid)
    echo(f"{name}: answering at {service.ready}")


def start_intake(settings: Settings, paths: Paths, echo: Echo) -> None:
    start_service(settings, paths, echo, intake_service(settings))


def start_managers(settings: Settings, paths: Paths, echo: Echo) -> None:
    start_service(settings, paths, echo, managers_service(settings))


def stop_intake(settings: Settings, echo: Echo = print) -> None:
    stop(Paths(settings), "intake", intake_service(settings).marker, echo)


def stop_managers(settings: Settings, echo: Echo = print) -> None:
    stop(Paths(settings), "managers", managers_service(settings).marker, echo)


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
    start_managers(settings, paths, echo)
    echo(f"stack up in {time.monotonic() - started:.1f}s (logs in {paths.logs})")


def down(settings: Settings, echo: Echo = print) -> None:
    stop_managers(settings, echo)
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
        *(
            ServiceStatus(
                service.name, service.port, running_pid(paths, service.name, service.marker), answers(service)
            )
            for service in (intake_service(settings), managers_service(settings))
        ),
    ]
