"""The local stack's processes: the run folder, pid files, starting and stopping by process group.

Every service `miroir stack up` starts runs as its own process group from the run
folder (`MIROIR_RUN_DIR`), with its pid in a file there; stopping one only ever
touches a pid whose command line and working folder are still ours.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from config.settings import Settings

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}

Echo = Callable[[str], None]


class StackError(RuntimeError):
    """Something the user must fix before the stack can start; the message says what."""


class Paths:
    def __init__(self, settings: Settings) -> None:
        self.run = settings.stack.run_dir.resolve()
        self.logs = self.run / "logs"
        self.kafka_libs = settings.stack.kafka_libs_dir.resolve()  # one folder per Kafka version below
        self.kafka = self.run / "kafka"
        self.kafka_data = self.kafka / "data"
        self.redis = self.run / "redis"

    def pidfile(self, service: str) -> Path:
        return self.run / f"{service}.pid"

    def logfile(self, service: str) -> Path:
        return self.logs / f"{service}.log"


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


def spawn(paths: Paths, service: str, argv: list[str], env: dict[str, str] | None = None) -> int:
    paths.logs.mkdir(parents=True, exist_ok=True)
    with paths.logfile(service).open("ab") as log:
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=paths.run,
            env=env,
        )
    _children[process.pid] = process
    paths.pidfile(service).write_text(str(process.pid))
    return process.pid


def stop(paths: Paths, service: str, marker: str, echo: Echo, grace: float = 30.0) -> None:
    pid = running_pid(paths, service, marker)
    if pid is None:
        echo(f"{service}: not running")
        return
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.2)
    if alive(pid):
        echo(f"{service}: still up after {grace:.0f}s, killing")
        os.killpg(pid, signal.SIGKILL)
        while alive(pid):
            time.sleep(0.1)
    paths.pidfile(service).unlink(missing_ok=True)
    echo(f"{service}: stopped (pid {pid})")


def alive(pid: int) -> bool:
    if pid in _children:
        return _children[pid].poll() is None
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_until(check: Callable[[], bool], timeout: float, what: str, log: Path, pid: int) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not alive(pid):
            raise StackError(f"{what} exited during start-up. Last lines of {log}:\n{tail(log)}")
        time.sleep(0.5)
    raise StackError(f"{what} did not answer within {timeout:.0f}s. Last lines of {log}:\n{tail(log)}")


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
