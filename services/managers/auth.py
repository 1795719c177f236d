"""Who is asking (a browser's session cookie or a script's personal API token), sign-in, sign-out, CSRF.

CSRF: every session has a *synchronizer token*, drawn when it opens and kept with it in Redis
(sinks/credentials.py). The app's forms carry it, a page's script sends it as `X-CSRF-Token`, and a
cookie-authenticated request that changes anything without it is refused (403). Chosen over a
double-submit cookie because the session already lives on the server, so the token costs nothing
more, and a cookie planted by a sibling subdomain cannot forge it (plain double-submit's known
hole). Before sign-in there is no session, so the sign-in form carries a *signed* double-submit
token: a nonce in a cookie, and in the form the nonce with its HMAC under the session secret.
Bearer tokens need no CSRF token: browsers never add an Authorization header on their own.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from processors.access import AccessError, User, check_name, signin_wait
from services.managers.context import Managers, Refusal, managers
from services.managers.pages import language, signin_page
from sinks.credentials import Session

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SIGNIN_COOKIE = "miroir_signin"  # the sign-in form's nonce
MAX_FORM_BYTES = 8192
# Where sign-in may send people back to: a case page (a notification's link), nowhere else (no open redirect).
NEXT = re.compile(r"^/callbacks/[A-Za-z0-9._:-]{1,256}$")
router = APIRouter()


@dataclass(frozen=True)
class Caller:
    user: User
    session: Session | None  # None: a personal API token, which needs no CSRF token
    token: str | None = None  # the personal API token itself (a live stream checks it again)


async def _user(app: Managers, name: str) -> User:
    user = await app.accounts.user(name)
    if user is None or user.disabled:
        raise Refusal(401, "account_disabled", "this account is disabled or no longer exists")
    return user


async def identify(request: Request) -> Caller:
    """The caller, from `Authorization: Bearer <personal token>` or the session cookie; else 401."""
    app = managers(request)
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        token = await app.credentials.token(credential.strip())
        if token is None:
            raise Refusal(401, "unknown_token", "this token was never issued", {"WWW-Authenticate": "Bearer"})
        if token.revoked:
            raise Refusal(
                401, "revoked_token", f"the token {token.label!r} was revoked", {"WWW-Authenticate": "Bearer"}
            )
        return Caller(await _user(app, token.user), None, credential.strip())
    cookie = request.cookies.get(app.cookie)
    s = app.settings
    session = await app.credentials.session(cookie, app.clock(), s.session_idle, s.session_max) if cookie else None
    if session is None:
        raise Refusal(401, "signed_out", "sign in at /signin, or send Authorization: Bearer <personal token>")
    return Caller(await _user(app, session.user), session)


Identified = Annotated[Caller, Depends(identify)]


def csrf_ok(session: Session, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(session.csrf.encode(), (submitted or "").encode())


async def acting(request: Request, caller: Identified) -> Caller:
    """The caller of a request that changes something: a session must send its CSRF token."""
    if caller.session is not None and not csrf_ok(caller.session, request.headers.get(CSRF_HEADER)):
        raise Refusal(403, "csrf", f"send the session's CSRF token in {CSRF_HEADER} (GET /v1/me gives it)")
    return caller


Acting = Annotated[Caller, Depends(acting)]


# ---------------------------------------------------------------- the sign-in form's token


def _signature(key: bytes, nonce: str) -> str:
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def signin_csrf(key: bytes, nonce: str) -> str:
    return f"{nonce}.{_signature(key, nonce)}"


def signin_csrf_ok(key: bytes, cookie_nonce: str | None, submitted: str) -> bool:
    nonce, _, signature = submitted.partition(".")
    return (
        bool(cookie_nonce)
        and hmac.compare_digest(nonce.encode(), (cookie_nonce or "").encode())
        and hmac.compare_digest(signature.encode(), _signature(key, nonce).encode())
    )


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (first value each); 413 past MAX_FORM_BYTES."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise Refusal(413, "too_large", f"a form is at most {MAX_FORM_BYTES} bytes")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=20)
    return {name: values[0] for name, values in fields.items()}


# ---------------------------------------------------------------- pages and routes


def _page(
    app: Managers, lang: str, status: int = 200, error: str | None = None, name: str = "", then: str = ""
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    form = signin_page(lang, signin_csrf(app.signin_key, nonce), error, name, then if NEXT.match(then) else "")
    page = HTMLResponse(form, status_code=status)
    page.set_cookie(
        SIGNIN_COOKIE,
        nonce,
        max_age=3600,
        path="/signin",
        httponly=True,
        samesite="lax",
        secure=app.settings.secure_cookies,
    )
    return page


@router.get("/signin", response_class=HTMLResponse, summary="The sign-in form (French; English with ?lang=en)")
async def signin_form(request: Request) -> HTMLResponse:
    query = request.query_params
    return _page(managers(request), language(query.get("lang")), then=query.get("next", ""))


@router.post(
    "/signin",
    summary="Sign in (form: name, password, csrf_token): a session cookie, then to /",
    responses={401: {"description": "Wrong name or password"}, 403: {"description": "No CSRF token"}, 429: {}},
)
async def signin(request: Request) -> Response:
    app = managers(request)
    form = await read_form(request)
    lang = language(form.get("lang"))
    name, password = form.get("name", "").strip(), form.get("password", "")
    then = form.get("next", "") if NEXT.match(form.get("next", "")) else ""
    if not signin_csrf_ok(app.signin_key, request.cookies.get(SIGNIN_COOKIE), form.get(CSRF_FIELD, "")):
        return _page(app, lang, 403, "csrf", name, then)
    try:
        check_name(name, "user name")
    except AccessError:
        return _page(app, lang, 401, "wrong", name, then)
    now = app.clock()
    wait = signin_wait(await app.accounts.signin_failures(name), now, app.throttle)
    if wait > 0:
        page = _page(app, lang, 429, "locked", name, then)
        page.headers["Retry-After"] = str(math.ceil(wait))
        return page
    user = await app.accounts.authenticate(name, password)
    if user is None:
        rule = app.throttle
        await app.accounts.record_failure(name, now, rule.max_failures, rule.window + rule.lock)
        return _page(app, lang, 401, "wrong", name, then)
    await app.accounts.clear_failures(name)
    token, _ = await app.credentials.open_session(user.name, now, app.settings.session_idle)
    done = RedirectResponse((then or "/") + ("?lang=en" if lang == "en" else ""), status_code=303)
    done.set_cookie(
        app.cookie,
        token,
        max_age=math.ceil(app.settings.session_max),
        path="/",
        httponly=True,
        samesite="lax",
        secure=app.settings.secure_cookies,
    )
    done.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return done


@router.post("/signout", summary="Sign out (form: csrf_token): the session ends")
async def signout(request: Request) -> Response:
    app = managers(request)
    form = await read_form(request)
    caller = await identify(request)
    if caller.session is None or not csrf_ok(caller.session, form.get(CSRF_FIELD)):
        raise Refusal(403, "csrf", f"sign out from the app's own form (its {CSRF_FIELD} field)")
    await app.credentials.close_session(request.cookies[app.cookie])
    done = RedirectResponse("/signin?lang=en" if language(form.get("lang")) == "en" else "/signin", status_code=303)
    done.delete_cookie(app.cookie, path="/", secure=app.settings.secure_cookies, httponly=True, samesite="lax")
    return done
