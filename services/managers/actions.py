"""What changes a callback, through the JSON API (the inbox's pages and `miroir callbacks` both use it):
claim (the site's next, or one by id), release, reassign, resolve, reopen.

Each is scoped per site (403 for a site the caller may not see), needs the session's CSRF token when
called with a session cookie (auth.Acting), is refused with 409 when the case's state does not allow
it (processors/inbox.py, asked inside the queue's transaction), and goes to the callback's audit log
with who, when, what and from which address. Resolve publishes the CallbackOutcome to Kafka; reopen
publishes nothing (processors/inbox.py says why).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from processors.access import check_name
from processors.inbox import OUTCOMES
from schemas import codec_for
from services.managers.api import REFUSALS, CallbackId, Site, check_site, shown_to, visible_callback
from services.managers.auth import Acting, Caller
from services.managers.context import Managers, Refusal, client_address, managers
from sinks.callback_queue import CallbackError

router = APIRouter(prefix="/v1")
Outcome = Literal["reached", "no_answer", "resolved", "refused"]  # schemas/CallbackOutcome.avsc's symbols
assert set(OUTCOMES) == set(Outcome.__args__)  # type: ignore[attr-defined]  # one list, two spellings
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
CONFLICT = {**REFUSALS, 409: {"description": "The callback's state does not allow it (the message says why)"}}


class Resolution(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    note: Note = Field(description="What was said or done (required, not blank)")
    root_cause: str = Field(
        min_length=1, max_length=64, description="Why the customer was unhappy: an id of GET /v1/root-causes"
    )


class Reassignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(min_length=1, max_length=64, description="Who takes it: a user who sees the callback's site")


class Reopening(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Note = Field(description="Why it comes back (the customer is still unhappy: what they said)")


def _elevated(caller: Caller) -> bool:
    """A regional lead or an admin: the site's escalation group, who may act on others' claims."""
    return caller.user.role in ("regional", "admin")


async def _done(
    request: Request, app: Managers, caller: Caller, callback: dict[str, Any], action: str, **details: Any
) -> dict[str, Any]:
    """Audit the action and answer with the callback as the caller now sees it."""
    callback_id = callback["callback_id"]
    await app.accounts.audit(callback_id, caller.user.name, action, client_address(request), app.clock(), **details)
    return {"callback": shown_to(callback, caller, await app.accounts.audit_trail(callback_id))}


def _conflict(error: CallbackError) -> Refusal:
    return Refusal(404 if error.reason == "no_callback" else 409, error.reason, str(error))


@router.post(
    "/sites/{site}/claim",
    summary="Claim the site's oldest unclaimed callback; its contact details come with it",
    responses=REFUSALS,
)
async def claim(request: Request, caller: Acting, site: Site) -> dict[str, Any]:
    app = managers(request)
    check_site(app, caller, site)
    callback = await app.queue.claim(site, caller.user.name, app.clock())
    if callback is None:
        return {"callback": None}
    return await _done(request, app, caller, callback, "claimed")


@router.post(
    "/callbacks/{callback_id}/claim", summary="Claim this callback (unclaimed, or yours already)", responses=CONFLICT
)
async def claim_one(request: Request, caller: Acting, callback_id: CallbackId) -> dict[str, Any]:
    app = managers(request)
    await visible_callback(app, caller, callback_id)
    try:
        callback = await app.queue.claim_id(callback_id, caller.user.name, app.clock())
    except CallbackError as error:
        raise _conflict(error) from None
    return await _done(request, app, caller, callback, "claimed")


@router.post(
    "/callbacks/{callback_id}/release",
    summary="Give a claimed callback back to the site (yours; a lead or admin: anyone's)",
    responses=CONFLICT,
)
async def release(request: Request, caller: Acting, callback_id: CallbackId) -> dict[str, Any]:
    app = managers(request)
    await visible_callback(app, caller, callback_id)
    try:
        callback = await app.queue.release(callback_id, caller.user.name, app.clock(), _elevated(caller))
    except CallbackError as error:
        raise _conflict(error) from None
    return await _done(request, app, caller, callback, "released")


@router.post(
    "/callbacks/{callback_id}/reassign",
    summary="Give an unresolved callback to someone else who sees its site",
    responses={**CONFLICT, 422: {"description": "Nobody by that name sees the callback's site"}},
)
async def reassign(request: Request, caller: Acting, callback_id: CallbackId, body: Reassignment) -> dict[str, Any]:
    app = managers(request)
    before = await visible_callback(app, caller, callback_id)
    target = await app.accounts.user(body.to) if _valid_name(body.to) else None
    if target is None or target.disabled or not app.scope(target).covers(before["site"]):
        raise Refusal(422, "not_of_the_site", f"{body.to!r} is not an active user who sees {before['site']!r}")
    try:
        callback = await app.queue.reassign(callback_id, target.name, caller.user.name, app.clock(), _elevated(caller))
    except CallbackError as error:
        raise _conflict(error) from None
    return await _done(request, app, caller, callback, "reassigned", to=target.name)


def _valid_name(name: str) -> bool:
    try:
        check_name(name)
    except ValueError:
        return False
    return True


@router.post(
    "/callbacks/{callback_id}/resolve",
    summary="Record a callback's outcome, its root cause and a note (all required); its CallbackOutcome goes to Kafka",
    responses={**CONFLICT, 503: {}},
)
async def resolve(request: Request, caller: Acting, callback_id: CallbackId, body: Resolution) -> dict[str, Any]:
    app = managers(request)
    before = await visible_callback(app, caller, callback_id)
    if body.root_cause not in app.root_causes:
        known = ", ".join(app.root_causes)
        raise Refusal(422, "invalid_request", f"root_cause: {body.root_cause!r} is not one of {known}")
    now = app.clock()
    try:
        record = await app.queue.resolve(
            callback_id, body.outcome, body.note, caller.user.name, now, body.root_cause, _elevated(caller)
        )
    except CallbackError as error:
        raise Refusal(409, "resolved_before" if error.reason == "resolved" else error.reason, str(error)) from None
    again = before["status"] == "resolved"  # the same person and outcome: publish what may be missing
    action = "outcome published again" if again else "resolved"
    details = {"outcome": body.outcome, **({"root_cause": record["root_cause"]} if record["root_cause"] else {})}
    await app.accounts.audit(callback_id, caller.user.name, action, client_address(request), now, **details)
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


@router.post(
    "/callbacks/{callback_id}/reopen",
    summary="A resolved callback comes back (the customer is still unhappy): open, unclaimed, its due time kept; "
    "nothing is published until it is resolved again",
    responses=CONFLICT,
)
async def reopen(request: Request, caller: Acting, callback_id: CallbackId, body: Reopening) -> dict[str, Any]:
    app = managers(request)
    await visible_callback(app, caller, callback_id)
    try:
        callback = await app.queue.reopen(callback_id, caller.user.name, app.clock(), body.note)
    except CallbackError as error:
        raise _conflict(error) from None
    return await _done(request, app, caller, callback, "reopened")  # the note: in its history
