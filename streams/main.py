"""Entry point of `miroir worker`."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time


def run_worker(argv: list[str]) -> None:
    from config.settings import settings
    from processors.config import pipeline_config
    from processors.journey_check import loaded_from
    from processors.taxonomy import TaxonomyError
    from streams.app import app

    try:  # a wrong journey file stops the worker here, with its reason, not inside an agent
        taxonomy = pipeline_config().taxonomy
    except TaxonomyError as error:
        sys.exit(f"miroir worker: {error}")
    print(f"miroir worker: journeys {loaded_from(taxonomy)}", file=sys.stderr, flush=True)

    # faust creates its data folder but not the folders above it.
    settings.pipeline.data_dir.mkdir(parents=True, exist_ok=True)
    if os.environ.get("MIROIR_EXIT_WITH_PARENT"):
        exit_with_parent()
    sys.argv = ["miroir", *argv]
    app.main()


def exit_with_parent() -> None:
    """A process (worker, intake) started for a demo or a test stops when whoever started it is gone."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
