"""The inbox's pages: `/` (the inbox) and `/callbacks/{id}` (a case: the page e-mail and chat
notifications link to). Signed out: to /signin, and back to the case once signed in. A case of a
site the caller may not see: 403, as from the API; an unknown one: 404."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.managers.auth import identify
from services.managers.context import Refusal, managers
from services.managers.pages import case_page, error_page, inbox_page, language
from sinks.callback_queue import CallbackError

router = APIRouter()


def _signin(lang: str, then: str = "") -> RedirectResponse:
    query = "&".join(q for q in ("lang=en" if lang == "en" else "", f"next={quote(then)}" if then else "") if q)
    return RedirectResponse("/signin" + (f"?{query}" if query else ""), status_code=303)


@router.get("/", response_class=HTMLResponse, summary="The inbox (French; English with ?lang=en); else to /signin")
async def inbox(request: Request) -> Response:
    lang = language(request.query_params.get("lang"))
    try:
        caller = await identify(request)
    except Refusal:
        return _signin(lang)
    app = managers(request)
    csrf = caller.session.csrf if caller.session else None
    return HTMLResponse(inbox_page(lang, caller.user, app.scope(caller.user), csrf))


@router.get(
    "/callbacks/{callback_id}",
    response_class=HTMLResponse,
    summary="A case's page: the request, the customer's other callbacks, the audit, the actions",
    responses={403: {"description": "A site the caller may not see"}, 404: {}},
)
async def case(request: Request, callback_id: Annotated[str, Path(min_length=1, max_length=256)]) -> Response:
    lang = language(request.query_params.get("lang"))
    try:
        caller = await identify(request)
    except Refusal:
        return _signin(lang, f"/callbacks/{callback_id}")
    app = managers(request)
    try:
        site = (await app.queue.get(callback_id))["site"]
    except CallbackError:
        return HTMLResponse(error_page(lang, "missing"), status_code=404)
    if not app.scope(caller.user).covers(site):
        return HTMLResponse(error_page(lang, "forbidden"), status_code=403)
    csrf = caller.session.csrf if caller.session else None
    return HTMLResponse(case_page(lang, caller.user, callback_id, csrf))
