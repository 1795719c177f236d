"""The callbacks' JSON API, scoped per site: a caller sees and acts only on the sites their role gives
them (processors/access.py), 403 otherwise. Every action goes to the callback's audit log with who,
when, what and from which address; contact details go only to the manager who claimed the callback.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas import codec_for
from services.managers.auth import Acting, Caller, Identified
from services.managers.context import Managers, Refusal, client_address, managers
from sinks.callback_queue import CallbackError

router = APIRouter(prefix="/v1")
CallbackId = Annotated[str, Path(min_length=1, max_length=256)]
Site = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
MAX_LISTED = 1000  # per site and request: a busy site has tens of thousands
Outcome = Literal["reached", "no_answer", "resolved", "refused"]  # schemas/CallbackOutcome.avsc's symbols
REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Signed out, or a token unknown, revoked, or of a disabled account"},
    403: {"description": "A site the caller may not see, or (with a session cookie) no CSRF token"},
}


class Resolution(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] = Field(
        description="What was said or done (required, not blank)"
    )


def _check_site(app: Managers, caller: Caller, site: str) -> None:
    if not app.scope(caller.user).covers(site):
        raise Refusal(403, "not_your_site", f"{caller.user.name} may not see or act on the site {site!r}")


def _shown(callback: dict[str, Any], caller: Caller, audit: list[dict[str, Any]]) -> dict[str, Any]:
    """The callback as `caller` may see it: contact details only for the manager who claimed it."""
    mine = callback.get("claimed_by") == caller.user.name
    return {
        **{k: v for k, v in callback.items() if mine or not k.startswith("contact_")},
        "contact_shown": mine,
        "audit": audit,
    }


async def _callback(app: Managers, caller: Caller, callback_id: str) -> dict[str, Any]:
    try:
        callback = await app.queue.get(callback_id)
    except CallbackError:
        raise Refusal(404, "no_callback", f"no callback {callback_id!r}") from None
    _check_site(app, caller, callback["site"])
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
        _check_site(app, caller, site)
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
    app = managers(request)
    callback = await _callback(app, caller, callback_id)
    return _shown(callback, caller, await app.accounts.audit_trail(callback_id))


@router.post(
    "/sites/{site}/claim",
    summary="Claim the site's oldest unclaimed callback; its contact details come with it",
    responses=REFUSALS,
)
async def claim(request: Request, caller: Acting, site: Site) -> dict[str, Any]:
    app = managers(request)
    _check_site(app, caller, site)
    now = app.clock()
    callback = await app.queue.claim(site, caller.user.name, now)
    if callback is None:
        return {"callback": None}
    await app.accounts.audit(callback["callback_id"], caller.user.name, "claimed", client_address(request), now)
    audit = await app.accounts.audit_trail(callback["callback_id"])
    return {"callback": _shown(callback, caller, audit)}


@router.post(
    "/callbacks/{callback_id}/resolve",
    summary="Record a callback's outcome (a note is required); its CallbackOutcome goes to Kafka",
    responses={**REFUSALS, 409: {"description": "Resolved before, by someone else or otherwise"}, 503: {}},
)
async def resolve(request: Request, caller: Acting, callback_id: CallbackId, body: Resolution) -> dict[str, Any]:
    app = managers(request)
    before = await _callback(app, caller, callback_id)
    now = app.clock()
    try:
        record = await app.queue.resolve(callback_id, body.outcome, body.note, caller.user.name, now)
    except CallbackError as error:
        raise Refusal(409, "resolved_before", str(error)) from None
    again = before["status"] == "resolved"  # the same person and outcome: publish what may be missing
    action = "outcome published again" if again else "resolved"
    await app.accounts.audit(callback_id, caller.user.name, action, client_address(request), now, outcome=body.outcome)
    value = codec_for("CallbackOutcome").encode(record)
    try:
        errors = await app.sender.send_many([(app.topics.callback_outcomes, record["site"], value)])
    except RuntimeError as error:  # BrokerUnavailable: the producer could not even start
        errors = [error]
    if any(errors):
        raise Refusal(
            503,
            "outcome_not_published",
            f"{callback_id} is resolved in the queue, but Kafka did not take its outcome ({errors[0]}); "
            "send the same resolve again to publish it",
            {"Retry-After": "5"},
        )
    return {"callback_id": callback_id, "outcome": body.outcome, "within_sla": record["within_sla"], "published": True}


@router.get("/sites/{site}/escalations", summary="The site's escalated callbacks (overdue, unresolved)")
async def escalations(request: Request, caller: Identified, site: Site) -> dict[str, Any]:
    app = managers(request)
    _check_site(app, caller, site)
    return {"site": site, "escalations": await app.queue.escalations(site)}
