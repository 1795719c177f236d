"""The Java side of the interop test: resolves the jars of `infra/interop/pom.xml` with Maven (first run
only, cached in the run folder, as the broker's are) and runs `ProduceSurveyResponses.java` from source.

Java 17 runs a single source file (`java -cp 'jars/*' Program.java`): nothing is compiled or kept.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from config.settings import Settings
from infra.broker import java_major_version

ROOT = Path(__file__).resolve().parents[2]
INTEROP_DIR = ROOT / "infra" / "interop"
POM = INTEROP_DIR / "pom.xml"
PROGRAM = INTEROP_DIR / "ProduceSurveyResponses.java"
SCHEMA = ROOT / "schemas" / "SurveyResponse.avsc"
PROGRESS_EVERY = 10  # downloads between two progress lines
RUN_TIMEOUT = 180.0

Echo = Callable[[str], None]


class InteropError(RuntimeError):
    """Java or Maven missing, the jars not resolvable, or the Java producer failing: said plainly."""


def pinned_versions() -> dict[str, str]:
    """The pom's version properties (avro.version, kafka.version...): the cache is keyed by them."""
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    properties = ET.parse(POM).getroot().find("m:properties", namespace)
    assert properties is not None, f"{POM} has no <properties>"
    return {child.tag.split("}")[-1]: (child.text or "").strip() for child in properties}


def jars_dir(settings: Settings) -> Path:
    versions = pinned_versions()
    name = f"avro-{versions['avro.version']}-kafka-clients-{versions['kafka.version']}"
    return settings.stack.run_dir.resolve() / "interop-libs" / name


def ensure_jars(settings: Settings, echo: Echo) -> Path:
    """The folder of the Java producer's jars; resolved from Maven Central on the first run only."""
    major = java_major_version()  # StackError, clear, when Java is missing
    if major < 17:
        raise InteropError(f"Java {major} found; the Java producer runs from source, which needs Java 17+.")
    target = jars_dir(settings)
    versions = pinned_versions()
    marker = target / f"avro-{versions['avro.version']}.jar"
    if marker.exists():
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise InteropError(
            "Maven is not installed; it fetches the Java producer's jars (Apache Avro, kafka-clients) "
            "from Maven Central for the interop test (apt-get install maven, or `make setup`)."
        )
    echo(
        f"interop: resolving Apache Avro {versions['avro.version']} and kafka-clients {versions['kafka.version']} "
        f"with Maven into {target} (first run only)..."
    )
    staging = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    command = [mvn, "-B", "-f", str(POM), "dependency:copy-dependencies", "-DincludeScope=runtime"]
    lines, downloads = _run_maven([*command, f"-DoutputDirectory={staging}"], echo)
    if not (staging / marker.name).exists():
        shutil.rmtree(staging, ignore_errors=True)
        errors = [line for line in lines if line.startswith("[ERROR] ")] or lines[-30:]
        raise InteropError(
            "Maven could not resolve the Java producer's jars (is Maven Central reachable? a proxy or mirror "
            "goes in ~/.m2/settings.xml):\n" + "\n".join(errors[:30])
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        staging.rename(target)
    except OSError:  # another run cached them first
        shutil.rmtree(staging, ignore_errors=True)
    echo(f"interop: {len(list(target.glob('*.jar')))} jars cached in {target} ({downloads} files downloaded)")
    return target


def _run_maven(command: list[str], echo: Echo) -> tuple[list[str], int]:
    """Maven's output lines and how many files it downloaded, with a progress line now and then."""
    lines: list[str] = []
    downloads = 0
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as process:
        assert process.stdout is not None
        for raw in process.stdout:
            line = re.sub(r"\x1b\[[0-9;]*m", "", raw.rstrip())
            lines.append(line)
            if "Downloaded from" in line:
                downloads += 1
                if downloads % PROGRESS_EVERY == 0:
                    echo(f"interop: {downloads} files downloaded from Maven Central...")
    return lines, downloads


def producer_properties(settings: Settings) -> str:
    """The Java client's settings for the cluster `settings` name (a properties file's text)."""
    kafka = settings.kafka
    lines = [f"bootstrap.servers={kafka.bootstrap_servers}", f"security.protocol={kafka.security_protocol}"]
    if kafka.sasl_mechanism:
        module = "plain.PlainLoginModule" if kafka.sasl_mechanism == "PLAIN" else "scram.ScramLoginModule"
        password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else ""
        jaas = (
            f"org.apache.kafka.common.security.{module} required "
            f'username="{kafka.sasl_username}" password="{password}";'
        )
        lines += [f"sasl.mechanism={kafka.sasl_mechanism}", "sasl.jaas.config=" + jaas.replace("\\", "\\\\")]
    if kafka.ssl_cafile:
        lines += ["ssl.truststore.type=PEM", f"ssl.truststore.location={kafka.ssl_cafile}"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class JavaRun:
    acknowledged: int
    count: int
    fingerprint: bytes  # the 8 bytes the Java encoder writes after C3 01
    output: str


def produce_with_java(settings: Settings, jars: Path, topic: str, count: int, marker: str, workdir: Path) -> JavaRun:
    """Run the Java producer: `count` SurveyResponses with ids `<marker>-<i>` to `topic`."""
    config = workdir / "producer.properties"
    config.write_text(producer_properties(settings))
    config.chmod(0o600)  # it may hold the SASL password
    command = ["java", "-cp", f"{jars}/*", str(PROGRAM), "--schema", str(SCHEMA), "--topic", topic]
    command += ["--count", str(count), "--marker", marker, "--config", str(config)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=workdir)
    except subprocess.TimeoutExpired as error:
        raise InteropError(f"the Java producer did not finish within {RUN_TIMEOUT:.0f}s") from error
    output = result.stdout + result.stderr
    fingerprint = re.search(r"^fingerprint ([0-9a-f]{16})$", result.stdout, re.MULTILINE)
    acknowledged = re.search(r"^acknowledged (\d+) of (\d+)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or not fingerprint or not acknowledged:
        raise InteropError(f"the Java producer failed (exit {result.returncode}):\n{output[-3000:]}")
    return JavaRun(int(acknowledged[1]), int(acknowledged[2]), bytes.fromhex(fingerprint[1]), output)
