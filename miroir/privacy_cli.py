"""`miroir privacy`: erase a person, export what Miroir holds about them, read the privacy audit,
purge what is past its retention now. Erase, export and audit go through the managers' app (admins
only, audited: services/managers/privacy.py) with a personal API token, like `miroir callbacks`.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from miroir.callbacks_cli import TOKEN, URL, _api

console = Console()
err = Console(stderr=True)
privacy_app = typer.Typer(
    help="Personal data: erasure and access requests (admins, through the managers' app), retention purge.",
    epilog="README: Your data. A token: `miroir users token create --name YOU` (an admin's).",
    no_args_is_help=True,
)
CUSTOMER = typer.Option(None, "--customer-ref", help="The customer's ref, as the survey tool sends it")
EMAIL = typer.Option(None, "--email", help="Their e-mail address (any case, spaces trimmed)")
PHONE = typer.Option(None, "--phone", help="Their phone number (06 12 34 56 78, +33 6 12 34 56 78...)")


def _subject(customer_ref: str | None, email: str | None, phone: str | None) -> dict[str, str]:
    given = {k: v for k, v in (("customer_ref", customer_ref), ("email", email), ("phone", phone)) if v}
    if len(given) != 1:
        raise typer.BadParameter("give exactly one of --customer-ref, --email, --phone")
    return given


@privacy_app.command("erase")
def erase(
    customer_ref: str | None = CUSTOMER,
    email: str | None = EMAIL,
    phone: str | None = PHONE,
    token: str = TOKEN,
    url: str | None = URL,
) -> None:
    """Erase a person: their callbacks lose contact, verbatim and notes now, and the intake and the
    pipeline refuse anything about them from now on. Says what cannot be erased yet, and until when."""
    answer = _api("POST", "/v1/privacy/erasures", token, url, json=_subject(customer_ref, email, phone))
    found = answer["callbacks"]
    console.print(
        f"[bold]erased[/]: {len(found)} callback(s){': ' + ', '.join(found) if found else ''}; "
        f"{answer['subjects']} subject key(s) refused from now on (audit {answer['audit_id']})"
    )
    for item in answer["not_erased"]:
        console.print(f"  not yet: {escape(item['where'])} ({escape(item['what'])}): {escape(item['when'])}")


@privacy_app.command("export")
def export(
    customer_ref: str | None = CUSTOMER,
    email: str | None = EMAIL,
    phone: str | None = PHONE,
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the JSON here (default: stdout)"),
    workers: list[str] = typer.Option(
        [], "--worker", help="A worker's URL, for the evidence it keeps (repeat for each; default: this machine's)"
    ),
    token: str = TOKEN,
    url: str | None = URL,
) -> None:
    """Every record Miroir holds about a person, as JSON (an access request): their callbacks from
    the managers' app, the evidence excerpts each worker keeps about them."""
    answer = _api("POST", "/v1/privacy/exports", token, url, json=_subject(customer_ref, email, phone))
    answer["evidence"], unread = _evidence(workers or [_this_worker()], answer.pop("subject_keys"))
    if unread:
        answer["evidence_not_read"] = unread
        for where, why in unread.items():
            err.print(f"[bold yellow]warning:[/] no evidence read from the worker at {where}: {escape(why)}")
    text = json.dumps(answer, indent=2, ensure_ascii=False, sort_keys=True)
    if output is None:
        print(text)
    else:
        output.write_text(text + "\n")
        console.print(f"{len(answer['callbacks'])} callback(s) written to {output}", highlight=False)


def _this_worker() -> str:
    from config.settings import settings

    return f"http://{settings.pipeline.web_host}:{settings.pipeline.web_port}"


def _evidence(workers: list[str], keys: list[str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The evidence each worker keeps about `keys`, and the workers that could not say why not."""
    from config.settings import settings

    token = settings.pipeline.web_token
    headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}
    found: list[dict[str, Any]] = []
    unread: dict[str, str] = {}
    for worker in workers:
        try:
            answer = httpx.get(
                worker.rstrip("/") + "/privacy/evidence/", params={"keys": ",".join(keys)}, headers=headers, timeout=30
            )
            answer.raise_for_status()
            found += [e for e in answer.json()["evidence"] if e not in found]  # a standby holds copies
        except (httpx.HTTPError, ValueError, KeyError) as error:
            unread[worker] = str(error) or type(error).__name__
    return found, unread


@privacy_app.command("audit")
def audit(token: str = TOKEN, url: str | None = URL) -> None:
    """The latest erasures and exports: who, when, from where, how many records."""
    for entry in _api("GET", "/v1/privacy/audit", token, url)["entries"]:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(float(entry["at"])))
        console.print(f"{when}  {entry['action']:<6} by {entry['by']} from {entry['from']}: {entry['found']}")


@privacy_app.command("purge")
def purge() -> None:
    """Run the retention purge now on this Redis (the worker runs it daily): closed callbacks lose
    their contact details after MIROIR_PRIVACY_CONTACT_DAYS and are anonymised after MIROIR_PRIVACY_CASE_DAYS."""
    from config.settings import settings
    from processors.privacy import retention
    from sinks.privacy import PrivacyStore

    async def run() -> dict[str, Any]:
        store = PrivacyStore.from_url(settings.redis.dsn)
        try:
            return dict(await store.purge(retention(settings.privacy), time.time()))
        finally:
            await store.close()

    counts = asyncio.run(run())
    console.print(
        f"purged: {counts.get('contact', 0)} callback(s) lost their contact details, {counts.get('case', 0)} anonymised"
    )
