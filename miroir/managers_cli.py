"""`miroir managers serve`: the managers' app (sign-in, the callbacks' JSON API)."""

from __future__ import annotations

import typer

from config.settings import settings

managers_app = typer.Typer(
    help="The managers' app: accounts sign in and act on their sites' callbacks (README: Managers).",
    epilog=(
        "Quick start: `miroir stack up` starts it (MIROIR_MANAGERS_PORT, 8090); "
        "`miroir users add --name m.dupont --email m.dupont@example.org --role manager --site lyon-part-dieu`; "
        "then sign in at http://localhost:8090/signin, or `miroir users token create --name m.dupont` "
        "for `miroir callbacks`."
    ),
    no_args_is_help=True,
)


@managers_app.command("serve")
def serve(
    host: str = typer.Option(settings.managers.host, help="Interface to listen on (MIROIR_MANAGERS_HOST)"),
    port: int = typer.Option(settings.managers.port, help="Port (MIROIR_MANAGERS_PORT)"),
    log_level: str = typer.Option("info", help="critical, error, warning, info or debug"),
) -> None:
    """Serve the managers' app (GET /signin, /v1/callbacks, /healthz; API docs at /docs)."""
    from miroir.serving import serve as serve_app
    from services.managers.app import create_app

    serve_app(create_app, host, port, log_level, grace=settings.managers.send_timeout + 5)
