"""The callbacks' JSON API, what it reads, scoped per site: a caller sees only the sites their role
gives them (processors/access.py), 403 otherwise; contact details go only to the manager who claimed
the callback. What changes a callback: actions.py; the live changes: events.py.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request

from processors.access import visible_sites
from processors.inbox import site_figures, tabs, urgency
from services.managers.auth import Caller, Identified
from services.managers.context import Managers, Refusal, managers
from sinks.callback_queue import CallbackError

router = APIRouter(prefix="/v1")
CallbackId = Annotated[str, Path(min_length=1, max_length=256)]
Site = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
MAX_LISTED = 1000  # per site and request: a busy site has tens of thousands
INBOX_DONE = 50  # the inbox's "done" tab: the site's latest callbacks, resolved ones among them
REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Signed out, or a token unknown, revoked, or of a disabled account"},
    403: {"description": "A site the caller may not see, or (with a session cookie) no CSRF token"},
}


def check_site(app: Managers, caller: Caller, site: str) -> None:
    if not app.scope(caller.user).covers(site):
        raise Refusal(403, "not_your_site", f"{caller.user.name} may not see or act on the site {site!r}")


def shown_to(callback: dict[str, Any], caller: Caller, audit: list[dict[str, Any]]) -> dict[str, Any]:
    """The callback as `caller` may see it: contact details only for the manager who claimed it
    (and only while it is theirs: a released, reassigned or resolved case shows them no more)."""
    mine = callback.get("status") == "claimed" and callback.get("claimed_by") == caller.user.name
    return {
        **{k: v for k, v in callback.items() if mine or not k.startswith("contact_")},
        "contact_shown": mine,
        "audit": audit,
    }


def _with_tabs(row: dict[str, Any], now: float) -> dict[str, Any]:
    return {**row, "tabs": tabs(row["status"], float(row["due_at"]), bool(row.get("escalated")), now)}


async def visible_callback(app: Managers, caller: Caller, callback_id: str) -> dict[str, Any]:
    try:
        callback = await app.queue.get(callback_id)
    except CallbackError:
        raise Refusal(404, "no_callback", f"no callback {callback_id!r}") from None
    if not app.scope(caller.user).covers(callback["site"]):  # 403, but not naming whose site it is
        raise Refusal(403, "not_your_site", f"{caller.user.name} may not see or act on {callback_id!r}")
    return callback


@router.get("/me", summary="Who you are, the sites you see, and (with a session cookie) your CSRF token")
async def me(request: Request, caller: Identified) -> dict[str, Any]:
    scope = managers(request).scope(caller.user)
    user = caller.user
    return {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "region": user.region,
        "sites": sorted(scope.sites),
        "every_site": scope.everywhere,
        "csrf_token": caller.session.csrf if caller.session else None,
    }


@router.get(
    "/callbacks",
    summary="The callbacks of a site, or of every site you see, without contact details: by default the "
    "unresolved ones due first; with state=all the latest ones, resolved included",
)
async def listing(
    request: Request,
    caller: Identified,
    site: Annotated[str | None, Query(max_length=64)] = None,
    state: Literal["open", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 100,
) -> dict[str, Any]:
    """`total` says how many each site has (unresolved ones, or all ever): at most `limit` are listed per site."""
    app = managers(request)
    scope = app.scope(caller.user)
    if site is not None:
        check_site(app, caller, site)
        sites = {site}
    else:
        sites = set(scope.sites) | (await app.queue.sites() if scope.everywhere else set())
    now = app.clock()
    totals: dict[str, int] = {}
    found: list[dict[str, Any]] = []
    for name in sorted(sites):
        if state == "open":
            totals[name], rows = await app.queue.unresolved(name, now, limit)
        else:
            rows = await app.queue.listing(name, now, limit)
            totals[name] = await app.queue.size(name)
        found += rows
    return {"sites": sorted(sites), "total": totals, "callbacks": found}


@router.get("/callbacks/{callback_id}", summary="A callback, its history and its audit log", responses=REFUSALS)
async def show(request: Request, caller: Identified, callback_id: CallbackId) -> dict[str, Any]:
    """With `tabs` (where the inbox shows it) and `customer` (the customer's other callbacks on the sites
    the caller sees, newest first, without contact details)."""
    app = managers(request)
    callback = await visible_callback(app, caller, callback_id)
    now = app.clock()
    scope = app.scope(caller.user)
    ref = callback.get("customer_ref")  # none once anonymised or erased (sinks/privacy.py)
    others = await app.queue.customer_callbacks(ref, now) if ref else []
    shown = shown_to(callback, caller, await app.accounts.audit_trail(callback_id))
    return {
        **_with_tabs(shown, now),
        "customer": [r for r in others if r["callback_id"] != callback_id and scope.covers(r["site"])],
    }


@router.get("/inbox", summary="The inbox: each site's figures, its unresolved callbacks and latest resolved ones")
async def inbox(
    request: Request,
    caller: Identified,
    site: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 100,
) -> dict[str, Any]:
    """Every case with its `tabs` (todo, in_progress, done, overdue, escalated), most urgent first, and
    per site `figures` (open, overdue, within_sla_pct, median_hours_to_callback: the mirror's)."""
    app = managers(request)
    sites = await _sites(app, caller, site)
    now = app.clock()
    figures, cases = {}, {}
    for name in sites:
        figures[name] = site_figures(await app.queue.site_figures(name, now))
        _, unresolved = await app.queue.unresolved(name, now, limit)
        latest = await app.queue.listing(name, now, min(limit, INBOX_DONE))
        cases.update({r["callback_id"]: r for r in [*latest, *unresolved]})
    rows = sorted((_with_tabs(r, now) for r in cases.values()), key=urgency)
    return {"sites": sites, "figures": figures, "callbacks": rows, "now": now}


@router.get("/sites/{site}/figures", summary="A site's open, overdue, within-SLA % and median time to callback")
async def figures(request: Request, caller: Identified, site: Site) -> dict[str, Any]:
    app = managers(request)
    check_site(app, caller, site)
    return {"site": site, **site_figures(await app.queue.site_figures(site, app.clock()))}


@router.get("/sites/{site}/people", summary="Who may take a case of the site (reassign): its managers and leads")
async def people(request: Request, caller: Identified, site: Site) -> dict[str, Any]:
    app = managers(request)
    check_site(app, caller, site)
    users = await app.accounts.users()
    covering = [u for u in users if not u.disabled and visible_sites(u, app.hierarchy).covers(site)]
    # Admins see every site but are not a site's staff: managers and leads first, by name.
    ranked = sorted(covering, key=lambda u: (u.role == "admin", u.name))
    return {"site": site, "people": [{"name": u.name, "role": u.role} for u in ranked]}


@router.get("/root-causes", summary="The root causes a resolution may name, with French and English labels")
async def root_causes(request: Request, caller: Identified) -> dict[str, Any]:
    causes = managers(request).root_causes
    return {"root_causes": [{"id": c.id, "fr": c.fr, "en": c.en} for c in causes.values()]}


async def _sites(app: Managers, caller: Caller, site: str | None) -> list[str]:
    """The one site asked (403 when not the caller's), else every site the caller sees."""
    if site is not None:
        check_site(app, caller, site)
        return [site]
    scope = app.scope(caller.user)
    return sorted(set(scope.sites) | (await app.queue.sites() if scope.everywhere else set()))


@router.get("/sites/{site}/escalations", summary="The site's escalated callbacks (overdue, unresolved)")
async def escalations(request: Request, caller: Identified, site: Site) -> dict[str, Any]:
    app = managers(request)
    check_site(app, caller, site)
    return {"site": site, "escalations": await app.queue.escalations(site)}
