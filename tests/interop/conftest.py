"""The Java producer's jars, resolved once per session (and once per machine: cached in the run folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings
from infra.processes import StackError
from tests.interop.java import InteropError, ensure_jars


@pytest.fixture(scope="session")
def java_jars(stack: Settings, pytestconfig: pytest.Config) -> Path:
    """The jars' folder. The first run's Maven resolution shows its progress through pytest's capture."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    shown: list[str] = []

    def echo(line: str) -> None:
        text = line if shown else f"\n{line}"  # off pytest's progress line
        shown.append(line)
        if capture is None:
            print(text, flush=True)
            return
        with capture.global_and_fixture_disabled():
            print(text, flush=True)

    try:
        return ensure_jars(stack, echo)
    except (InteropError, StackError) as error:
        pytest.fail(str(error), pytrace=False)
