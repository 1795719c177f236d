"""`miroir callbacks`: managers list, claim, release, reassign, resolve, reopen and look at callbacks,
through the managers' app (the same JSON API as the inbox's pages).

Every command authenticates with the user's personal API token (MIROIR_API_TOKEN or --token) and
obeys the same rules as the app: a user sees and acts only on their sites, and every action is
audited with who, when and from where (services/managers/).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from config.settings import settings

console = Console()
err = Console(stderr=True)
callbacks_app = typer.Typer(
    help="The managers' callback queue, through the managers' app (a personal API token: MIROIR_API_TOKEN).",
    epilog="A token: `miroir users token create --name YOU` (an admin runs it). README: Callbacks.",
    no_args_is_help=True,
)
OUTCOMES = ("reached", "no_answer", "resolved", "refused")
TOKEN = typer.Option(
    "", "--token", envvar="MIROIR_API_TOKEN", show_default=False, help="Your personal API token (prefer the env var)"
)
URL = typer.Option(
    None,
    "--url",
    envvar="MIROIR_MANAGERS_PUBLIC_URL",
    help="The managers' app (default: this machine's, on MIROIR_MANAGERS_PORT)",
)
REFUSED = {
    401: "not authenticated",
    403: "refused",
    404: "not found",
    409: "conflict",
    422: "invalid",
    503: "unavailable",
}


def _api(method: str, path: str, token: str, url: str | None, **request: Any) -> Any:
    """The app's JSON answer; a refusal or an unreachable app is a clear error and exit code 1."""
    base = (url or settings.managers.url).rstrip("/")
    if not token:
        err.print("[bold red]error:[/] no token: set MIROIR_API_TOKEN (an admin makes one: miroir users token create)")
        raise typer.Exit(2)
    try:
        response = httpx.request(
            method, base + path, headers={"Authorization": f"Bearer {token}"}, timeout=30, **request
        )
    except httpx.TransportError as error:
        err.print(
            f"[bold red]error:[/] cannot reach the managers' app at {base} ({error}); is it up (`miroir stack up`)?"
        )
        raise typer.Exit(1) from None
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:500]
        what = REFUSED.get(response.status_code, f"HTTP {response.status_code}")
        err.print(f"[bold red]error ({what}):[/] {escape(message)}", soft_wrap=True)
        raise typer.Exit(1)
    return response.json()


def _when(seconds: str | float | None) -> str:
    if not seconds:
        return "-"
    return datetime.fromtimestamp(float(seconds), tz=UTC).strftime("%Y-%m-%d %H:%M")


def _show(callback: dict[str, Any]) -> None:
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
    if callback.get("contact_shown"):
        rows += [
            (f"contact {k}", callback[f"contact_{k}"])
            for k in ("name", "phone", "email")
            if callback.get(f"contact_{k}")
        ]
    else:
        rows.append(("contact", "(shown to the manager who claimed it)"))
    for name, value in rows:
        table.add_row(name, escape(str(value)))
    console.print(table)
    for event in callback.get("history", []):
        extra = {k: v for k, v in event.items() if k not in ("at", "action", "by")}
        console.print(f"  {_when(event['at'])}  {event['action']:<10} by {event['by']}  {escape(str(extra or ''))}")
    if callback.get("root_cause"):
        console.print(f"  root cause: {escape(callback['root_cause'])}")
    for entry in callback.get("audit", []):
        console.print(f"  audit {_when(entry['at'])}  {entry['action']:<10} by {entry['by']} from {entry['from']}")


@callbacks_app.command("list")
def list_callbacks(
    site: str | None = typer.Option(None, help="One site (default: every site you see)"),
    overdue: bool = typer.Option(False, "--overdue", help="Only unresolved ones past their due time"),
    escalated: bool = typer.Option(False, "--escalated", help="Only escalated ones"),
    everything: bool = typer.Option(False, "--all", help="The latest ones, resolved included"),
    limit: int = typer.Option(100, help="At most this many per site"),
    token: str = TOKEN,
    url: str | None = URL,
) -> None:
    """Your sites' unresolved callbacks (or one site's), due first, without contact details."""
    query: dict[str, str | int] = {"state": "all" if everything else "open", "limit": limit}
    found = _api("GET", "/v1/callbacks", token, url, params={**query, **({"site": site} if site else {})})
    rows = [r for r in found["callbacks"] if (not overdue or r["overdue"]) and (not escalated or r["escalated"])]
    table = Table("id", "site", "priority", "status", "created", "due", "claimed by", "journey / step", "score")
    for r in rows:
        due = f"[red]{_when(r['due_at'])} overdue[/]" if r["overdue"] else _when(r["due_at"])
        status = r["status"] + (" ⚠ escalated" if r["escalated"] else "")
        table.add_row(
            r["callback_id"],
            r["site"],
            r["priority"],
            status,
            _when(r["created_at"]),
            due,
            r.get("claimed_by", "-"),
            f"{r['journey_id']} / {r.get('step_id', '-')}",
            f"{r['score']} {r['score_scale']}",
        )
    console.print(table)
    more = {s: n for s, n in found["total"].items() if n > limit}
    console.print(f"{len(rows)} callbacks" + (f"; only {limit} per site of {more} (--limit)" if more else ""))


@callbacks_app.command("claim")
def claim(
    callback_id: str | None = typer.Argument(None, help="This callback (cb-...); without it, the site's next"),
    site: str | None = typer.Option(None, help="One of your sites: take its oldest unclaimed callback"),
    token: str = TOKEN,
    url: str | None = URL,
) -> None:
    """Take a callback, the site's next (--site) or one by id; shows how to reach the customer."""
    if (callback_id is None) == (site is None):
        err.print("[bold red]error:[/] give a callback id or --site (the site's next), not both")
        raise typer.Exit(2)
    if callback_id is not None:
        _show(_api("POST", f"{_path(callback_id)}/claim", token, url)["callback"])
        return
    callback = _api("POST", f"/v1/sites/{quote(site or '', safe='')}/claim", token, url)["callback"]
    if callback is None:
        console.print(f"no unclaimed callback at {site}")
        return
    _show(callback)


@callbacks_app.command("release")
def release(callback_id: str = typer.Argument(...), token: str = TOKEN, url: str | None = URL) -> None:
    """Give a callback you claimed back to its site (open again: anyone of the site may take it)."""
    _api("POST", f"{_path(callback_id)}/release", token, url)
    console.print(f"{callback_id}: released, open again")


@callbacks_app.command("reassign")
def reassign(
    callback_id: str = typer.Argument(...),
    to: str = typer.Option(..., "--to", help="Who takes it: a user who sees the callback's site"),
    token: str = TOKEN,
    url: str | None = URL,
) -> None:
    """Give a callback to someone else of its site (they see the contact, you no longer do)."""
    _api("POST", f"{_path(callback_id)}/reassign", token, url, json={"to": to})
    console.print(f"{callback_id}: now {to}'s")


@callbacks_app.command("resolve")
def resolve(
    callback_id: str = typer.Argument(..., help="The callback's id (cb-...)"),
    outcome: str = typer.Option(..., help="reached, no_answer, resolved or refused"),
    note: str = typer.Option(..., help="What was said or done (required)"),
    root_cause: str = typer.Option(
        ..., "--root-cause", help="Why the customer was unhappy (required): `root-causes` lists them"
    ),
    token: str = TOKEN,
    url: str | None = URL,
) -> None:
    """Record the outcome of a callback; the app publishes it to Kafka (callback-outcomes)."""
    if outcome not in OUTCOMES:
        err.print(f"[bold red]error:[/] --outcome {outcome!r}: expected one of {', '.join(OUTCOMES)}")
        raise typer.Exit(2)
    body = {"outcome": outcome, "note": note, "root_cause": root_cause}
    done = _api("POST", f"{_path(callback_id)}/resolve", token, url, json=body)
    sla = "within" if done["within_sla"] else "[red]after[/]"
    console.print(f"{callback_id}: {outcome}, {sla} its due time; outcome published")


@callbacks_app.command("reopen")
def reopen(
    callback_id: str = typer.Argument(...),
    note: str = typer.Option(..., help="Why it comes back (what the customer said)"),
    token: str = TOKEN,
    url: str | None = URL,
) -> None:
    """A resolved callback comes back, open, its due time kept; its next resolution is a new outcome."""
    _api("POST", f"{_path(callback_id)}/reopen", token, url, json={"note": note})
    console.print(f"{callback_id}: reopened, open again")


@callbacks_app.command("root-causes")
def root_causes(token: str = TOKEN, url: str | None = URL) -> None:
    """The root causes a resolution may name (--root-cause), with their French and English labels."""
    table = Table("id", "fr", "en")
    for cause in _api("GET", "/v1/root-causes", token, url)["root_causes"]:
        table.add_row(cause["id"], cause["fr"], cause["en"])
    console.print(table)


@callbacks_app.command("figures")
def figures(site: str = typer.Option(...), token: str = TOKEN, url: str | None = URL) -> None:
    """A site's open and overdue callbacks, % resolved within SLA and median time to callback."""
    f = _api("GET", f"/v1/sites/{quote(site, safe='')}/figures", token, url)
    pct = "-" if f["within_sla_pct"] is None else f"{f['within_sla_pct']} %"
    median = "-" if f["median_hours_to_callback"] is None else f"{f['median_hours_to_callback']} h"
    console.print(
        f"{site}: {f['open']} open, {f['overdue']} overdue; {f['resolved']} resolved, {pct} within SLA, "
        f"median time to callback {median}"
    )


def _path(callback_id: str) -> str:
    return f"/v1/callbacks/{quote(callback_id, safe='')}"


@callbacks_app.command("show")
def show(callback_id: str = typer.Argument(...), token: str = TOKEN, url: str | None = URL) -> None:
    """A callback, its history and its audit (contact details only for the manager who claimed it)."""
    _show(_api("GET", _path(callback_id), token, url))


@callbacks_app.command("escalations")
def escalations(site: str = typer.Option(...), token: str = TOKEN, url: str | None = URL) -> None:
    """Callbacks escalated to the site's escalation group (overdue and unresolved)."""
    rows = _api("GET", f"/v1/sites/{quote(site, safe='')}/escalations", token, url)["escalations"]
    table = Table("callback", "claimed by", "was due")
    for row in rows:
        table.add_row(row["callback_id"], row.get("claimed_by") or "-", _when(row["due_at"]))
    console.print(table)
