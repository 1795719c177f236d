"""`miroir intake`: serve the HTTP intake, manage the integrations' tokens and the staff questionnaire's links."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import typer
from rich.console import Console
from rich.table import Table

from config.settings import settings
from sinks.intake_tokens import TokenError, TokenStore, check_name, staff_link_name

T = TypeVar("T")
console = Console()
err = Console(stderr=True)
intake_app = typer.Typer(
    help="The intake: the HTTP API survey tools and people send answers to (README: Sending answers to Miroir).",
    epilog=(
        "Quick start: `miroir stack up` starts it (MIROIR_INTAKE_PORT, 8088); "
        "TOKEN=$(miroir intake token create --name my-tool); "
        "curl -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d @answer.json "
        "http://localhost:8088/v1/survey-responses. API docs: http://localhost:8088/docs."
    ),
    no_args_is_help=True,
)
token_app = typer.Typer(
    help="Bearer tokens, one per integration (only their SHA-256 is kept, in Redis).", no_args_is_help=True
)
intake_app.add_typer(token_app, name="token")
NAME = typer.Option(..., "--name", "-n", help="The integration's name (letters, digits, - _ .), e.g. typeform-prod")


@intake_app.command("serve")
def serve(
    host: str = typer.Option(settings.intake.host, help="Interface to listen on (MIROIR_INTAKE_HOST)"),
    port: int = typer.Option(settings.intake.port, help="Port (MIROIR_INTAKE_PORT)"),
    log_level: str = typer.Option("info", help="critical, error, warning, info or debug"),
) -> None:
    """Serve the intake (POST /v1/survey-responses, /v1/staff-feedback, /v1/hooks/{mapping}; docs at /docs)."""
    from miroir.serving import serve as serve_app
    from services.intake.app import create_app

    serve_app(create_app, host, port, log_level, grace=settings.intake.send_timeout + 5)


def _run(action: Callable[[TokenStore], Awaitable[T]]) -> T:
    from redis.exceptions import ConnectionError as RedisConnectionError

    async def go() -> T:
        store = TokenStore.from_url(settings.redis.dsn)
        try:
            return await action(store)
        finally:
            await store.close()

    try:
        return asyncio.run(go())
    except (RedisConnectionError, OSError) as error:
        err.print(
            f"[bold red]error:[/] cannot reach Redis at {settings.redis.host}:{settings.redis.port} "
            f"({error}); is the stack up (`miroir stack up`)?"
        )
        raise typer.Exit(1) from None
    except TokenError as error:
        err.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(1) from None


def _when(seconds: float | None) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M UTC") if seconds else "-"


@token_app.command("create")
def create(name: str = NAME) -> None:
    """Create a token for an integration and print it, once: Miroir keeps only its SHA-256."""
    token = _run(lambda store: store.create(name, time.time()))
    err.print(f"token for {name!r} (shown once; store it in the integration's secrets):")
    console.print(token, soft_wrap=True, highlight=False)
    err.print(f"use it as:  Authorization: Bearer <token>   against {settings.intake.url}/v1/")


@token_app.command("list")
def listing() -> None:
    """The integrations' tokens: name, when created, whether revoked (never the tokens)."""
    infos = _run(lambda store: store.listing())
    table = Table("name", "created", "state")
    for info in infos:
        state = f"[red]revoked {_when(info.revoked_at)}[/]" if info.revoked else "[green]active[/]"
        table.add_row(info.name, _when(info.created_at), state)
    console.print(table)


@token_app.command("revoke")
def revoke(name: str = NAME) -> None:
    """Revoke an integration's token: its requests get 403 from now on."""
    info = _run(lambda store: store.revoke(name, time.time()))
    console.print(f"token {info.name!r} revoked ({_when(info.revoked_at)})")


@intake_app.command("staff-link")
def staff_link(
    site: str | None = typer.Option(None, "--site", "-s", help="The site whose staff answer through the link"),
    journey: str | None = typer.Option(
        None, "--journey", "-j", help="The journey the stories are about (default: each person picks one, or none)"
    ),
    name: str | None = typer.Option(None, "--name", "-n", help="The link's name (default: SITE, or SITE.JOURNEY)"),
    revoke: bool = typer.Option(False, "--revoke", help="Revoke the link (--name, or --site [--journey])"),
    list_links: bool = typer.Option(False, "--list", help="List the links (never their tokens)"),
    base_url: str = typer.Option(settings.intake.url, help="The intake's address as the staff's phones reach it"),
) -> None:
    """The staff questionnaire's link for a site: print it (once: Miroir keeps only its SHA-256), list, revoke."""
    if list_links:
        links = _run(lambda store: store.staff_links())
        table = Table("name", "site", "journey", "created", "state")
        for link in links:
            state = f"[red]revoked {_when(link.revoked_at)}[/]" if link.revoked else "[green]active[/]"
            table.add_row(link.name, link.site, link.journey or "(picked)", _when(link.created_at), state)
        console.print(table)
        return
    if not site and not (revoke and name):
        err.print("[bold red]error:[/] name the site: --site SITE (or --list, or --revoke --name NAME)")
        raise typer.Exit(2)
    label = _link_name(site or "", journey, name)
    if revoke:
        link = _run(lambda store: store.revoke_staff_link(label, time.time()))
        console.print(f"staff link {link.name!r} revoked ({_when(link.revoked_at)}): it opens a 'link withdrawn' page")
        return
    from processors.config import pipeline_config
    from services.intake.staff import PAGE

    journeys = pipeline_config().taxonomy.journeys
    if journey is not None and journey not in journeys:
        err.print(f"[bold red]error:[/] no journey {journey!r} in the taxonomy ({', '.join(journeys)})")
        raise typer.Exit(2)
    token = _run(lambda store: store.create_staff_link(site or "", journey, time.time(), label))
    about = f", journey {journey!r}" if journey else ""
    err.print(f"staff questionnaire link {label!r} for {site!r}{about} (shown once; share it with the site's staff):")
    console.print(f"{base_url.rstrip('/')}{PAGE}?t={token}", soft_wrap=True, highlight=False)
    err.print(f"in English: add &lang=en; revoke it with `miroir intake staff-link --revoke --name {label}`")


def _link_name(site: str, journey: str | None, name: str | None) -> str:
    try:
        return check_name(name) if name else staff_link_name(site, journey)
    except TokenError as error:
        err.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(2) from None
