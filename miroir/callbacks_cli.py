"""`miroir callbacks`: managers list, claim, resolve and look at callbacks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from config.settings import settings
from sinks.callback_queue import CallbackError, CallbackQueue

T = TypeVar("T")
console = Console()
err = Console(stderr=True)
callbacks_app = typer.Typer(help="The managers' callback queue (Redis).", no_args_is_help=True)
OUTCOMES = ("reached", "no_answer", "resolved", "refused")
MANAGER = typer.Option(..., "--manager", "-m", envvar="MIROIR_MANAGER", help="Who you are (recorded)")


def _run(action: Callable[[CallbackQueue], Awaitable[T]]) -> T:
    from redis.exceptions import ConnectionError as RedisConnectionError

    from processors.config import pipeline_config

    async def go() -> T:
        queue = CallbackQueue.from_url(settings.redis.dsn, pipeline_config().taxonomy.callbacks.quiet_days)
        try:
            return await action(queue)
        finally:
            await queue.close()

    try:
        return asyncio.run(go())
    except RedisConnectionError as error:
        err.print(
            f"[bold red]error:[/] cannot reach Redis at {settings.redis.host}:{settings.redis.port} "
            f"({error}); is the stack up (`miroir stack up`)?"
        )
        raise typer.Exit(1) from None
    except CallbackError as error:
        err.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(1) from None


def _when(seconds: str | float | None) -> str:
    if not seconds:
        return "-"
    return datetime.fromtimestamp(float(seconds), tz=UTC).strftime("%Y-%m-%d %H:%M")


def _show(callback: dict[str, Any], with_contact: bool) -> None:
    table = Table(show_header=False, title=callback["callback_id"], title_justify="left")
    rows = [
        ("status", callback["status"]),
        ("priority", callback["priority"]),
        ("site", callback["site"]),
        ("journey / step", f"{callback['journey_id']} / {callback.get('step_id', '-')}"),
        ("score", f"{callback['score']} ({callback['score_scale']})"),
        ("verbatim", callback["verbatim"]),
        ("created", _when(callback["created_at"])),
        ("due", _when(callback["due_at"])),
        ("claimed by", callback.get("claimed_by", "-")),
    ]
    if with_contact:
        rows += [
            (f"contact {k}", callback[f"contact_{k}"])
            for k in ("name", "phone", "email")
            if callback.get(f"contact_{k}")
        ]
    else:
        rows.append(("contact", "(shown to the manager who claimed it)"))
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)
    for event in callback.get("history", []):
        extra = {k: v for k, v in event.items() if k not in ("at", "action", "by")}
        console.print(f"  {_when(event['at'])}  {event['action']:<10} by {event['by']}  {extra or ''}")


@callbacks_app.command("list")
def list_callbacks(
    site: str = typer.Option(..., help="The site whose callbacks to list"),
    overdue: bool = typer.Option(False, "--overdue", help="Only unresolved ones past their due time"),
    escalated: bool = typer.Option(False, "--escalated", help="Only escalated ones"),
    everything: bool = typer.Option(False, "--all", help="Include resolved ones"),
) -> None:
    """The site's callbacks, oldest first (no contact details)."""
    now = time.time()
    rows = _run(lambda queue: queue.listing(site, now))
    rows = [
        r
        for r in rows
        if (everything or r["status"] != "resolved")
        and (not overdue or r["overdue"])
        and (not escalated or r["escalated"])
    ]
    table = Table("id", "priority", "status", "created", "due", "claimed by", "journey / step", "score")
    for r in rows:
        due = f"[red]{_when(r['due_at'])} overdue[/]" if r["overdue"] else _when(r["due_at"])
        status = r["status"] + (" ⚠ escalated" if r["escalated"] else "")
        table.add_row(
            r["callback_id"],
            r["priority"],
            status,
            _when(r["created_at"]),
            due,
            r.get("claimed_by", "-"),
            f"{r['journey_id']} / {r.get('step_id', '-')}",
            f"{r['score']} {r['score_scale']}",
        )
    console.print(table)
    console.print(f"{len(rows)} callbacks")


@callbacks_app.command("claim")
def claim(site: str = typer.Option(..., help="Your site"), manager: str = MANAGER) -> None:
    """Take the oldest unclaimed callback of the site; shows how to reach the customer."""
    callback = _run(lambda queue: queue.claim(site, manager, time.time()))
    if callback is None:
        console.print(f"no unclaimed callback at {site}")
        return
    _show(callback, with_contact=True)


@callbacks_app.command("resolve")
def resolve(
    callback_id: str = typer.Argument(..., help="The callback's id (cb-...)"),
    outcome: str = typer.Option(..., help="reached, no_answer, resolved or refused"),
    note: str = typer.Option("", help="What was said or done"),
    manager: str = MANAGER,
) -> None:
    """Record the outcome of a callback; the outcome goes to Kafka (callback-outcomes)."""
    from schemas import codec_for
    from tools.producer import RecordProducer

    if outcome not in OUTCOMES:
        err.print(f"[bold red]error:[/] --outcome {outcome!r}: expected one of {', '.join(OUTCOMES)}")
        raise typer.Exit(1)
    record = _run(lambda queue: queue.resolve(callback_id, outcome, note or None, manager, time.time()))
    with RecordProducer(settings) as producer:
        producer.send_record(producer.topics.callback_outcomes, record["site"], record, codec_for("CallbackOutcome"))
    sla = "within" if record["within_sla"] else "[red]after[/]"
    console.print(f"{callback_id}: {outcome}, {sla} its due time; outcome published")


@callbacks_app.command("show")
def show(
    callback_id: str = typer.Argument(...),
    manager: str = typer.Option("", "--manager", "-m", envvar="MIROIR_MANAGER"),
) -> None:
    """A callback and its history (contact details only for the manager who claimed it)."""
    callback = _run(lambda queue: queue.get(callback_id))
    _show(callback, with_contact=bool(manager) and callback.get("claimed_by") == manager)


@callbacks_app.command("escalations")
def escalations(site: str = typer.Option(...)) -> None:
    """Callbacks escalated to the site's escalation group (overdue and unresolved)."""
    rows = _run(lambda queue: queue.escalations(site))
    table = Table("callback", "claimed by", "was due")
    for row in rows:
        table.add_row(row["callback_id"], row.get("claimed_by") or "-", _when(row["due_at"]))
    console.print(table)
