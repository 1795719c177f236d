"""`miroir users`: the managers' accounts (add, list, disable, enable, reset), how each is notified of
callbacks (notify), and their personal API tokens."""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import typer
from rich.console import Console
from rich.table import Table

from config.settings import settings
from processors.access import ROLES, AccessError, User, check_user, load_hierarchy
from processors.notifications import DIGESTS, LANGUAGES, NotifyError, Preferences, parse_quiet
from sinks.accounts import AccountError, AccountStore, check_password
from sinks.credentials import Credentials

T = TypeVar("T")
console = Console()
err = Console(stderr=True)
users_app = typer.Typer(
    help="The managers' accounts, in Redis (README: Managers: accounts and access).",
    epilog=(
        "Example: miroir users add --name m.dupont --email m.dupont@example.org --role manager "
        "--site lyon-part-dieu --site paris-bercy  (asks for the password, hidden; or --password-stdin). "
        "Regions: MIROIR_MANAGERS_SITES_FILE (default config/sites.yaml)."
    ),
    no_args_is_help=True,
)
token_app = typer.Typer(
    help="Personal API tokens for `miroir callbacks` and scripts (shown once; only their SHA-256 is kept).",
    no_args_is_help=True,
)
users_app.add_typer(token_app, name="token")
NAME = typer.Option(..., "--name", "-n", help="The user's name (letters, digits, - _ .), e.g. m.dupont")
PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin")
LABEL = typer.Option("cli", "--label", "-l", help="Which of the user's tokens (one per machine or script)")


def _run(action: Callable[[AccountStore, Credentials], Awaitable[T]]) -> T:
    from redis.exceptions import RedisError

    from tools.managers import with_accounts

    try:
        return with_accounts(settings, action)
    except (RedisError, OSError) as error:
        err.print(
            f"[bold red]error:[/] Redis at {settings.redis.host}:{settings.redis.port}: {error}; "
            "is the stack up (`miroir stack up`) and MIROIR_REDIS_URL right?"
        )
        raise typer.Exit(1) from None
    except (AccountError, AccessError) as error:
        err.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(1) from None


def _password(from_stdin: bool) -> str:
    """Never an option's value (it would stay in the shell's history and in `ps`)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        return check_password(password)
    except AccountError as error:
        err.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(2) from None


def _when(seconds: float | None) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M UTC") if seconds else "-"


@users_app.command("add")
def add(
    name: str = NAME,
    email: str = typer.Option(..., "--email", "-e", help="Where their notifications will go"),
    role: str = typer.Option(..., "--role", "-r", help=f"One of {', '.join(ROLES)}"),
    site: list[str] = typer.Option([], "--site", "-s", help="A manager's site; repeat for several"),
    region: str | None = typer.Option(None, "--region", help="A regional lead's region (of the sites file)"),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Add an account: a manager of sites, a regional lead of a region, or an admin."""
    try:
        hierarchy = load_hierarchy(settings.managers.sites_file)
        user = check_user(User(name, email, role, frozenset(site), region), hierarchy)  # type: ignore[arg-type]
    except AccessError as error:
        err.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(2) from None
    for unknown in sorted(user.sites - hierarchy.sites):
        err.print(f"note: the site {unknown!r} is in no region of {settings.managers.sites_file}")
    password = _password(password_stdin)
    _run(lambda accounts, _: accounts.add_user(user, password, time.time()))
    console.print(f"{name} added ({role}); they sign in at {settings.managers.url}/signin")


@users_app.command("list")
def listing() -> None:
    """Every account: role, sites or region, state (never passwords)."""
    users = _run(lambda accounts, _: accounts.users())
    table = Table("name", "email", "role", "sites / region", "state")
    for user in users:
        where = user.region or ", ".join(sorted(user.sites)) or "(every site)"
        table.add_row(user.name, user.email, user.role, where, "[red]disabled[/]" if user.disabled else "active")
    console.print(table)


@users_app.command("disable")
def disable(name: str = NAME) -> None:
    """Disable an account: its sessions end now, its tokens are refused from now on."""

    async def go(accounts: AccountStore, credentials: Credentials) -> int:
        await accounts.set_disabled(name, True, time.time())
        return await credentials.end_sessions(name)

    ended = _run(go)
    console.print(f"{name} disabled; {ended} session(s) ended")


@users_app.command("enable")
def enable(name: str = NAME) -> None:
    """Enable a disabled account again (its tokens not revoked meanwhile work again)."""
    _run(lambda accounts, _: accounts.set_disabled(name, False, time.time()))
    console.print(f"{name} enabled")


@users_app.command("reset")
def reset(name: str = NAME, password_stdin: bool = PASSWORD_STDIN) -> None:
    """Set a new password; the account's sessions end (its tokens stay: revoke them apart)."""
    password = _password(password_stdin)

    async def go(accounts: AccountStore, credentials: Credentials) -> int:
        await accounts.set_password(name, password)
        return await credentials.end_sessions(name)

    ended = _run(go)
    console.print(f"{name}: new password set; {ended} session(s) ended")


@users_app.command("notify")
def notify(
    name: str = NAME,
    email: str | None = typer.Option(
        None, "--email", help="on: an e-mail of each new callback and escalation of their sites; off: none"
    ),
    quiet: str | None = typer.Option(
        None,
        "--quiet",
        help="Quiet hours, e.g. 20:00-08:00 (MIROIR_NOTIFY_TIME_ZONE, default Europe/Paris): e-mails wait "
        "until they end; off: none",
    ),
    digest: str | None = typer.Option(
        None,
        "--digest",
        help="off: one e-mail per callback; hourly or daily (at MIROIR_NOTIFY_DIGEST_HOUR): new callbacks "
        "gathered in one e-mail (escalations still go at once)",
    ),
    language: str | None = typer.Option(None, "--language", help="fr or en: the e-mails' language"),
) -> None:
    """Show or change how a user is told of callbacks: e-mail on or off, quiet hours, digest, language.

    Without options, shows their current choice.

    Example: miroir users notify --name m.dupont --quiet 20:00-08:00 --digest daily"""
    try:
        if email is not None and email not in ("on", "off"):
            raise NotifyError(f"--email {email!r}: on or off")
        if digest is not None and digest not in DIGESTS:
            raise NotifyError(f"--digest {digest!r}: one of {', '.join(DIGESTS)}")
        if language is not None and language not in LANGUAGES:
            raise NotifyError(f"--language {language!r}: one of {', '.join(LANGUAGES)}")
        quiet_hours = parse_quiet(quiet) if quiet is not None else None
    except NotifyError as error:
        err.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(2) from None

    async def go(accounts: AccountStore, _: Credentials) -> Preferences:
        prefs = await accounts.preferences(name)
        if (email, quiet, digest, language) == (None, None, None, None):
            return prefs
        return await accounts.set_preferences(
            name,
            Preferences(
                email=prefs.email if email is None else email == "on",
                quiet=prefs.quiet if quiet is None else quiet_hours,
                digest=prefs.digest if digest is None else digest,  # type: ignore[arg-type]  # checked above
                language=prefs.language if language is None else language,  # type: ignore[arg-type]
            ),
        )

    prefs = _run(go)
    table = Table("user", "e-mail", "quiet hours", "digest", "language")
    table.add_row(name, "on" if prefs.email else "off", str(prefs.quiet or "off"), prefs.digest, prefs.language)
    console.print(table)


@token_app.command("create")
def token_create(name: str = NAME, label: str = LABEL) -> None:
    """Create a personal token and print it, once: give it to its user (MIROIR_API_TOKEN)."""

    async def go(accounts: AccountStore, credentials: Credentials) -> str:
        if await accounts.user(name) is None:
            raise AccountError(f"no user named {name!r} (miroir users list)")
        return await credentials.create_token(name, label, time.time())

    token = _run(go)
    err.print(f"token {label!r} of {name} (shown once; it acts as {name}, on their sites only):")
    console.print(token, soft_wrap=True, highlight=False)
    err.print(f"use it as:  export MIROIR_API_TOKEN=<token>; miroir callbacks list   (against {settings.managers.url})")


@token_app.command("list")
def token_list(name: str = NAME) -> None:
    """A user's tokens: label, when created, whether revoked (never the tokens)."""
    tokens = _run(lambda _, credentials: credentials.tokens(name))
    table = Table("label", "created", "state")
    for info in tokens:
        state = f"[red]revoked {_when(info.revoked_at)}[/]" if info.revoked else "[green]active[/]"
        table.add_row(info.label, _when(info.created_at), state)
    console.print(table)


@token_app.command("revoke")
def token_revoke(name: str = NAME, label: str = LABEL) -> None:
    """Revoke a user's token: requests with it get 401 from now on."""
    info = _run(lambda _, credentials: credentials.revoke_token(name, label, time.time()))
    console.print(f"token {info.label!r} of {info.user} revoked ({_when(info.revoked_at)})")
