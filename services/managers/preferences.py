"""Each person's own notification choices (processors.notifications.Preferences): e-mail on or off,
quiet hours, a digest, the language of the messages. The page `/notifications` (a plain form, no
script: it works on any phone) and `GET|PUT /v1/me/notifications` for scripts. An admin sets
anyone's with `miroir users notify`; here people set only their own. Chat channels are shared rooms,
configured by the admin (MIROIR_NOTIFY_CHANNELS_FILE), not here."""

from __future__ import annotations

import html
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from processors.notifications import DIGESTS, LANGUAGES, NotifyError, Preferences, parse_quiet
from services.managers.auth import CSRF_FIELD, Acting, Identified, csrf_ok, identify, read_form
from services.managers.context import Refusal, managers
from services.managers.pages import WORDS, language, page

router = APIRouter()
WORDS_HERE: dict[str, dict[str, str]] = {
    "title": {"fr": "Mes notifications", "en": "My notifications"},
    "email": {"fr": "Recevoir les rappels par e-mail", "en": "Get callbacks by e-mail"},
    "email_hint": {
        "fr": "Un e-mail par nouveau rappel et par escalade de vos sites, avec un lien vers le cas "
        "(jamais les coordonnées du client).",
        "en": "One e-mail per new callback and per escalation on your sites, with a link to the case "
        "(never the customer's contact details).",
    },
    "quiet": {"fr": "Heures calmes", "en": "Quiet hours"},
    "quiet_hint": {
        "fr": "Par exemple 20:00-08:00 : les e-mails attendent la fin de ces heures. Vide : aucune.",
        "en": "For instance 20:00-08:00: e-mails wait until they end. Empty: none.",
    },
    "digest": {"fr": "Résumé", "en": "Digest"},
    "off": {"fr": "Non : un e-mail par rappel", "en": "No: one e-mail per callback"},
    "hourly": {"fr": "Toutes les heures", "en": "Hourly"},
    "daily": {"fr": "Une fois par jour", "en": "Daily"},
    "language": {"fr": "Langue des messages", "en": "Language of the messages"},
    "save": {"fr": "Enregistrer", "en": "Save"},
    "saved": {"fr": "Enregistré.", "en": "Saved."},
}
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


class Choice(BaseModel):
    """A person's notification choice, as the API reads and writes it."""

    model_config = ConfigDict(extra="forbid")
    email: bool = True
    quiet: str | None = Field(default=None, max_length=11, description="HH:MM-HH:MM, e.g. 20:00-08:00; null: none")
    digest: Literal["off", "hourly", "daily"] = "off"
    language: Literal["fr", "en"] = "fr"


def _choice(prefs: Preferences) -> dict[str, Any]:
    return {
        "email": prefs.email,
        "quiet": str(prefs.quiet) if prefs.quiet else None,
        "digest": prefs.digest,
        "language": prefs.language,
    }


def _preferences(email: bool, quiet: str | None, digest: str, lang: str) -> Preferences:
    """Checked values -> Preferences; NotifyError says what is wrong."""
    if digest not in DIGESTS or lang not in LANGUAGES:
        raise NotifyError(f"digest {digest!r} / language {lang!r}: expected {DIGESTS} / {LANGUAGES}")
    return Preferences(email=email, quiet=parse_quiet(quiet), digest=digest, language=lang)  # type: ignore[arg-type]


@router.get("/v1/me/notifications", summary="Your notification choice")
async def mine(request: Request, caller: Identified) -> dict[str, Any]:
    return _choice(await managers(request).accounts.preferences(caller.user.name))


@router.put("/v1/me/notifications", summary="Change your notification choice (all fields; defaults when left out)")
async def change(request: Request, caller: Acting, body: Choice) -> dict[str, Any]:
    try:
        prefs = _preferences(body.email, body.quiet, body.digest, body.language)
    except NotifyError as error:
        raise Refusal(422, "invalid_request", str(error)) from None
    await managers(request).accounts.set_preferences(caller.user.name, prefs)
    return _choice(prefs)


def _page(lang: str, csrf: str, prefs: Preferences, message: str = "", status: int = 200) -> HTMLResponse:
    w = {key: words[lang] for key, words in WORDS_HERE.items()}

    def options(values: tuple[str, ...], chosen: str, label: Any) -> str:
        return "".join(
            f'<option value="{v}"{" selected" if v == chosen else ""}>{html.escape(label(v))}</option>' for v in values
        )

    body = page(
        "notifications.html",
        lang,
        "/notifications",
        title=w["title"],
        back="/?lang=en" if lang == "en" else "/",
        back_label=WORDS["back"][lang],
        message=message,
        csrf=html.escape(csrf),
        email_checked="checked" if prefs.email else "",
        email_label=w["email"],
        email_hint=w["email_hint"],
        quiet_label=w["quiet"],
        quiet=html.escape(str(prefs.quiet) if prefs.quiet else ""),
        quiet_hint=w["quiet_hint"],
        digest_label=w["digest"],
        digest_options=options(DIGESTS, prefs.digest, lambda v: WORDS_HERE[v][lang]),
        language_label=w["language"],
        language_options=options(LANGUAGES, prefs.language, LANGUAGE_NAMES.__getitem__),
        save=w["save"],
    )
    return HTMLResponse(body, status_code=status)


@router.get("/notifications", response_class=HTMLResponse, summary="Your notification choice, as a form")
async def form(request: Request) -> Response:
    lang = language(request.query_params.get("lang"))
    try:
        caller = await identify(request)
    except Refusal:
        return RedirectResponse("/signin" + ("?lang=en" if lang == "en" else ""), status_code=303)
    if caller.session is None:
        raise Refusal(403, "session_only", "the form is for a signed-in browser; scripts use /v1/me/notifications")
    return _page(lang, caller.session.csrf, await managers(request).accounts.preferences(caller.user.name))


@router.post("/notifications", response_class=HTMLResponse, summary="Save your notification choice (form)")
async def save(request: Request, caller: Identified) -> Response:
    fields = await read_form(request)
    lang = language(fields.get("lang"))
    if caller.session is None or not csrf_ok(caller.session, fields.get(CSRF_FIELD)):
        raise Refusal(403, "csrf", f"save from the app's own form (its {CSRF_FIELD} field)")
    accounts = managers(request).accounts
    try:
        prefs = _preferences(
            fields.get("email") == "on", fields.get("quiet"), fields.get("digest", "off"), fields.get("language", "fr")
        )
    except NotifyError as error:
        message = f'<p class="error" role="alert">{html.escape(str(error))}</p>'
        return _page(lang, caller.session.csrf, await accounts.preferences(caller.user.name), message, 422)
    await accounts.set_preferences(caller.user.name, prefs)
    return _page(lang, caller.session.csrf, prefs, f'<p class="hint" role="status">{WORDS_HERE["saved"][lang]}</p>')
