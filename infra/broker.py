"""Apache Kafka for the local stack: one KRaft node from the pinned Maven Central jars, no Docker.

The jars are resolved once with Maven (`infra/kafka/pom.xml`) into the run folder,
the KRaft storage formatted once, then `kafka.Kafka` runs on Java 17+; with SASL
settings the broker requires the configured user (the settings' own password).
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import uuid
from pathlib import Path

from config.settings import Settings
from infra.processes import LOCAL_HOSTS, Echo, Paths, StackError, port_answers, running_pid, spawn, stop, wait_until

KAFKA_VERSION = "4.1.1"
INFRA_DIR = Path(__file__).parent


def jars_dir(paths: Paths) -> Path:
    return paths.kafka_libs / KAFKA_VERSION


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
    marker = jars_dir(paths) / f"kafka_2.13-{KAFKA_VERSION}.jar"
    if marker.exists():
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError("Maven is not installed; it fetches the Kafka jars (apt-get install maven).")
    echo(f"kafka: resolving Apache Kafka {KAFKA_VERSION} jars from Maven Central (first run only)...")
    staging = jars_dir(paths).with_suffix(".partial")
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
    staging.rename(jars_dir(paths))
    echo(f"kafka: {len(list(jars_dir(paths).glob('*.jar')))} jars cached in {jars_dir(paths)}")


def _java(paths: Paths, heap: str, main: str, *args: str) -> list[str]:
    return [
        "java",
        f"-Xmx{heap}",
        f"-Xms{heap}",
        f"-Dlog4j2.configurationFile={INFRA_DIR / 'kafka' / 'log4j2.properties'}",
        "-cp",
        f"{jars_dir(paths)}/*",
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
    cluster_id = "-"
    while cluster_id.startswith("-"):  # one in 64 would be read as an option ("expected one argument")
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
    pid = spawn(paths, "kafka", _java(paths, settings.stack.kafka_heap, "kafka.Kafka", str(config)))
    echo(f"kafka: starting Apache Kafka {KAFKA_VERSION} (pid {pid}) on {host}:{port}")
    wait_until(lambda: kafka_answers(settings), settings.stack.start_timeout, "Kafka", paths.logfile("kafka"), pid)
    echo("kafka: answering")


def stop_kafka(settings: Settings, echo: Echo = print) -> None:
    stop(Paths(settings), "kafka", "kafka.Kafka", echo)
