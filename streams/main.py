"""Entry point of `miroir worker`."""

from __future__ import annotations

import sys


def run_worker(argv: list[str]) -> None:
    from streams.app import app

    sys.argv = ["miroir", *argv]
    app.main()
