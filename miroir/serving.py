"""`miroir intake serve` and `miroir managers serve`: an HTTP service of Miroir's on uvicorn."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from config.settings import Settings, settings


def serve(create_app: Callable[[Settings], Any], host: str, port: int, log_level: str, grace: float) -> None:
    """Run `create_app(settings)` until stopped; on SIGTERM, requests in flight get `grace` seconds
    to get their answer (a send to Kafka waits its timeout at most)."""
    import uvicorn

    if os.environ.get("MIROIR_EXIT_WITH_PARENT"):  # started by a demo or a test: gone with it
        from streams.main import exit_with_parent

        exit_with_parent()
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=log_level,
        server_header=False,
        timeout_graceful_shutdown=int(grace),
    )
