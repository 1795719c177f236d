"""Entry point of `miroir worker`."""

from __future__ import annotations

import sys


def run_worker(argv: list[str]) -> None:
    from miroir.settings import settings
    from streams.app import app

    # faust creates its data folder but not the folders above it.
    settings.pipeline.data_dir.mkdir(parents=True, exist_ok=True)
    sys.argv = ["miroir", *argv]
    app.main()
