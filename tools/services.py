"""An HTTP service of its own for a test, the bench or a chaos scenario: `miroir <name> serve` as a
subprocess on a free port, with MIROIR_* overrides, that can be stopped, SIGKILLed and started again
on the same port (tools/intake.py and tools/managers.py name theirs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tools.workers import free_port

START_TIMEOUT = 60.0


@dataclass
class RunningService:
    name: str  # `miroir <name> serve`
    url: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it (again, on the same port); returns once /healthz answers (200 or 503)."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "miroir.cli", self.name, "serve", "--log-level", "warning"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if (code := self.process.poll()) is not None:
                raise RuntimeError(f"the {self.name} service exited ({code}):\n{self.log.read_text()[-3000:]}")
            try:
                httpx.get(f"{self.url}/healthz", timeout=5)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"the {self.name} service did not answer within {START_TIMEOUT:.0f}s:\n{self.log.read_text()[-3000:]}"
        )

    def stop(self) -> None:
        """SIGTERM: uvicorn lets the requests in flight get their answer first."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL: requests in flight lose their connection, answered or not."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def spawn_service(name: str, log: Path, **env: str) -> RunningService:
    """`miroir <name> serve` on a free port (MIROIR_<NAME>_HOST and _PORT) with these MIROIR_* overrides,
    answering; it stops when this process does."""
    port = free_port()
    prefix = f"MIROIR_{name.upper()}"
    full = {**os.environ, f"{prefix}_HOST": "127.0.0.1", f"{prefix}_PORT": str(port), "MIROIR_EXIT_WITH_PARENT": "1"}
    service = RunningService(name, f"http://127.0.0.1:{port}", {**full, **env}, log)
    service.start()
    return service
