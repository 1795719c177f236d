"""The local stack without Docker: Apache Kafka (KRaft, one node) and Redis.

`up` resolves the pinned broker jars with Maven (once), formats the KRaft
storage (once), starts `kafka.Kafka` and `redis-server` as their own process
groups, waits until each answers and creates the topics. `down` stops only the
processes whose pid files `up` wrote. Everything lives under the run folder
(`MIROIR_RUN_DIR`, default `.run/`).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from config.settings import Settings

KAFKA_VERSION = "4.1.1"
INFRA_DIR = Path(__file__).parent
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}

Echo = Callable[[str], None]


class StackError(RuntimeError):
    """Something the user must fix before the stack can start; the message says what."""


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


class Paths:
    def __init__(self, settings: Settings) -> None:
        self.run = settings.stack.run_dir.resolve()
        self.logs = self.run / "logs"
        self.kafka_libs = settings.stack.kafka_libs_dir.resolve() / KAFKA_VERSION
        self.kafka = self.run / "kafka"
        self.kafka_data = self.kafka / "data"
        self.redis = self.run / "redis"

    def pidfile(self, service: str) -> Path:
        return self.run / f"{service}.pid"

    def logfile(self, service: str) -> Path:
        return self.logs / f"{service}.log"


# ---------------------------------------------------------------- processes


def port_answers(port: int, host: str = "localhost", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _cwd(pid: int) -> Path:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return Path("/nonexistent")


def running_pid(paths: Paths, service: str, marker: str) -> int | None:
    """The pid `up` recorded, if that process still runs and is still ours (pids get reused)."""
    pidfile = paths.pidfile(service)
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    if marker in _cmdline(pid) and _cwd(pid).is_relative_to(paths.run):
        return pid
    pidfile.unlink(missing_ok=True)
    return None


# Services started by this process: kept so they can be reaped (and not
# reported as leaked) when this same process stops them.
_children: dict[int, subprocess.Popen[bytes]] = {}


def _spawn(paths: Paths, service: str, argv: list[str]) -> int:
    paths.logs.mkdir(parents=True, exist_ok=True)
    with paths.logfile(service).open("ab") as log:
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=paths.run,
        )
    _children[process.pid] = process
    paths.pidfile(service).write_text(str(process.pid))
    return process.pid


def _stop(paths: Paths, service: str, marker: str, echo: Echo, grace: float = 30.0) -> None:
    pid = running_pid(paths, service, marker)
    if pid is None:
        echo(f"{service}: not running")
        return
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        echo(f"{service}: still up after {grace:.0f}s, killing")
        os.killpg(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.1)
    paths.pidfile(service).unlink(missing_ok=True)
    echo(f"{service}: stopped (pid {pid})")


def _alive(pid: int) -> bool:
    if pid in _children:
        return _children[pid].poll() is None
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_until(check: Callable[[], bool], timeout: float, what: str, log: Path, pid: int) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not _alive(pid):
            raise StackError(f"{what} exited during start-up. Last lines of {log}:\n{_tail(log)}")
        time.sleep(0.5)
    raise StackError(f"{what} did not answer within {timeout:.0f}s. Last lines of {log}:\n{_tail(log)}")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------- Kafka


def _local_kafka(settings: Settings) -> tuple[str, int]:
    host, port = settings.kafka.first_server
    if host not in LOCAL_HOSTS:
        raise StackError(
            f"MIROIR_KAFKA_BOOTSTRAP_SERVERS points at {host}:{port}; the local stack only "
            "runs a broker on localhost. Unset it, or run the worker against your cluster "
            "without `stack up`."
        )
    return host, port


def java_major_version() -> int:
    java = shutil.which("java")
    if java is None:
        raise StackError("Java is not installed; Kafka 4 needs Java 17+ (apt-get install openjdk-17-jre-headless).")
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise StackError(f"cannot read the Java version from: {out.strip()}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def ensure_kafka_jars(paths: Paths, echo: Echo) -> None:
    """Resolve the pinned broker jars from Maven Central into the run folder (first run only)."""
    marker = paths.kafka_libs / f"kafka_2.13-{KAFKA_VERSION}.jar"
    if marker.exists():
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError("Maven is not installed; it fetches the Kafka jars (apt-get install maven).")
    echo(f"kafka: resolving Apache Kafka {KAFKA_VERSION} jars from Maven Central (first run only)...")
    staging = paths.kafka_libs.with_suffix(".partial")
    shutil.rmtree(staging, ignore_errors=True)
    result = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(INFRA_DIR / "kafka" / "pom.xml"),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not (staging / marker.name).exists():
        output = (result.stdout + result.stderr)[-2000:]
        raise StackError(f"Maven could not resolve the Kafka jars:\n{output}")
    staging.rename(paths.kafka_libs)
    echo(f"kafka: {len(list(paths.kafka_libs.glob('*.jar')))} jars cached in {paths.kafka_libs}")


def _java(paths: Paths, heap: str, main: str, *args: str) -> list[str]:
    return [
        "java",
        f"-Xmx{heap}",
        f"-Xms{heap}",
        f"-Dlog4j2.configurationFile={INFRA_DIR / 'kafka' / 'log4j2.properties'}",
        "-cp",
        f"{paths.kafka_libs}/*",
        main,
        *args,
    ]


def _sasl_config(settings: Settings) -> str:
    """With SASL_PLAINTEXT the local broker requires the settings' user (PLAIN), as a password
    in MIROIR_REDIS_URL turns on Redis's requirepass: the same settings then work for a real cluster."""
    kafka = settings.kafka
    if kafka.security_protocol == "PLAINTEXT":
        return ""
    if kafka.security_protocol != "SASL_PLAINTEXT" or (kafka.sasl_mechanism or "PLAIN") != "PLAIN":
        raise StackError(
            f"the local stack runs PLAINTEXT or SASL_PLAINTEXT with PLAIN, not {kafka.security_protocol} "
            f"{kafka.sasl_mechanism or ''}; for TLS or SCRAM, point MIROIR_KAFKA_BOOTSTRAP_SERVERS at your cluster."
        )
    if not kafka.sasl_username or not kafka.sasl_password:
        raise StackError("SASL_PLAINTEXT needs MIROIR_KAFKA_SASL_USERNAME and MIROIR_KAFKA_SASL_PASSWORD.")
    user, password = kafka.sasl_username, kafka.sasl_password.get_secret_value()
    if '"' in user + password or "\\" in user + password:
        raise StackError("the local broker's SASL user and password may not contain quotes or backslashes.")
    return (
        "sasl.enabled.mechanisms=PLAIN\n"
        "sasl.mechanism.inter.broker.protocol=PLAIN\n"
        "listener.name.sasl_plaintext.plain.sasl.jaas.config="
        f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{user}" '
        f'password="{password}" user_{user}="{password}";\n'
    )


def _write_kafka_config(settings: Settings, paths: Paths) -> Path:
    host, port = _local_kafka(settings)
    template = (INFRA_DIR / "kafka" / "server.properties.template").read_text()
    config = paths.kafka / "server.properties"
    paths.kafka.mkdir(parents=True, exist_ok=True)
    config.write_text(
        template.format(
            host=host,
            port=port,
            controller_port=settings.stack.kafka_controller_port,
            data_dir=paths.kafka_data,
            partitions=settings.kafka.topic_partitions,
            protocol=settings.kafka.security_protocol,
            sasl=_sasl_config(settings),
        )
    )
    config.chmod(0o600)  # it may hold the SASL password
    return config


def _format_kafka_storage(paths: Paths, config: Path, heap: str, echo: Echo) -> None:
    if (paths.kafka_data / "meta.properties").exists():
        return
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    echo(f"kafka: formatting KRaft storage (cluster {cluster_id})")
    result = subprocess.run(
        _java(paths, "256m", "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise StackError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")


def kafka_answers(settings: Settings) -> bool:
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

    host, port = settings.kafka.first_server
    if not port_answers(port, host):
        return False
    try:
        admin = KafkaAdminClient(**settings.kafka.client_config(), request_timeout_ms=3000)
    except (KafkaError, OSError, ValueError):
        return False
    try:
        admin.describe_cluster()
        return True
    except (KafkaError, OSError, ValueError):
        return False
    finally:
        admin.close()


def start_kafka(settings: Settings, paths: Paths, echo: Echo) -> None:
    host, port = _local_kafka(settings)
    if running_pid(paths, "kafka", "kafka.Kafka"):
        echo(f"kafka: already running on {host}:{port}")
        return
    for taken in (port, settings.stack.kafka_controller_port):
        if port_answers(taken):
            raise StackError(
                f"port {taken} is already in use by a process miroir did not start. Stop it, or "
                "choose other ports (MIROIR_KAFKA_BOOTSTRAP_SERVERS=localhost:PORT, "
                "MIROIR_KAFKA_CONTROLLER_PORT)."
            )
    major = java_major_version()
    if major < 17:
        raise StackError(f"Java {major} found; Kafka {KAFKA_VERSION} needs Java 17 or newer.")
    ensure_kafka_jars(paths, echo)
    config = _write_kafka_config(settings, paths)
    _format_kafka_storage(paths, config, settings.stack.kafka_heap, echo)
    pid = _spawn(paths, "kafka", _java(paths, settings.stack.kafka_heap, "kafka.Kafka", str(config)))
    echo(f"kafka: starting Apache Kafka {KAFKA_VERSION} (pid {pid}) on {host}:{port}")
    _wait_until(lambda: kafka_answers(settings), settings.stack.start_timeout, "Kafka", paths.logfile("kafka"), pid)
    echo("kafka: answering")


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
    pid = _spawn(paths, "redis", [server, str(config)])
    echo(f"redis: starting redis-server (pid {pid}) on port {port}, append-only file on")
    _wait_until(lambda: redis_answers(settings), 30, "Redis", paths.logfile("redis"), pid)
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


def stop_kafka(settings: Settings, echo: Echo = print) -> None:
    _stop(Paths(settings), "kafka", "kafka.Kafka", echo)


def stop_redis(settings: Settings, echo: Echo = print) -> None:
    _stop(Paths(settings), "redis", "redis-server", echo)


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
