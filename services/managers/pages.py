"""The managers' HTML pages (web/: plain HTML, CSS and JS, no build step), in French or English.

The server writes each page's frame (who is signed in, their sites, the sign-out form, the case's id)
and the page's own script (web/inbox.js, web/case.js; no inline script) fills it from the JSON API
and keeps it live from GET /v1/events.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from string import Template

from processors.access import Scope, User

WEB_DIR = Path(__file__).parent / "web"
LANGUAGES = ("fr", "en")  # French first: the default
WORDS: dict[str, dict[str, str]] = {
    "signin": {"fr": "Connexion", "en": "Sign in"},
    "name": {"fr": "Identifiant", "en": "User name"},
    "password": {"fr": "Mot de passe", "en": "Password"},
    "submit": {"fr": "Se connecter", "en": "Sign in"},
    # One message for a wrong name and a wrong password: which one was wrong is nobody's business.
    "wrong": {"fr": "Identifiant ou mot de passe incorrect.", "en": "Wrong user name or password."},
    "locked": {
        "fr": "Trop d'essais manqués : la connexion est bloquée un moment. Réessayez plus tard.",
        "en": "Too many failed attempts: signing in is locked for a while. Try again later.",
    },
    "csrf": {
        "fr": "Ce formulaire a expiré : il a été rechargé, recommencez.",
        "en": "This form had expired: it was reloaded, please try again.",
    },
    "hello": {"fr": "Bonjour $name", "en": "Hello $name"},
    "manager": {"fr": "Responsable de site, vous voyez :", "en": "Site manager, you see:"},
    "regional": {"fr": "Responsable régional ($region), vous voyez :", "en": "Regional lead ($region), you see:"},
    "admin": {
        "fr": "Administrateur, vous voyez tous les sites, dont :",
        "en": "Admin, you see every site, among them:",
    },
    "signout": {"fr": "Se déconnecter", "en": "Sign out"},
    "notifications": {"fr": "Mes notifications", "en": "My notifications"},
    "inbox": {"fr": "Rappels clients", "en": "Customer callbacks"},
    "case": {"fr": "Rappel", "en": "Callback"},
    "back": {"fr": "← Boîte de réception", "en": "← Inbox"},
    "noscript": {
        "fr": "Cette page a besoin de JavaScript ; sinon, « miroir callbacks » fait la même chose.",
        "en": "This page needs JavaScript; otherwise `miroir callbacks` does the same.",
    },
    "forbidden": {
        "fr": "Ce rappel est celui d'un site que vous ne voyez pas.",
        "en": "This callback belongs to a site you may not see.",
    },
    "missing": {"fr": "Aucun rappel de ce nom.", "en": "No callback by that name."},
}


def language(asked: str | None) -> str:
    return asked if asked in LANGUAGES else LANGUAGES[0]


def _other(lang: str) -> str:
    return LANGUAGES[1 - LANGUAGES.index(lang)]


@cache
def _template(name: str) -> Template:
    return Template((WEB_DIR / name).read_text())


def asset(name: str) -> str:
    return (WEB_DIR / name).read_text()


def page(template: str, lang: str, path: str, **fields: str) -> str:
    """A page of web/ in `lang`, its language switch pointing at `path` in the other language."""
    other = _other(lang)
    head = _template("head.html").substitute(title=fields["title"]).rstrip("\n")  # the same for every page
    return _template(template).substitute(lang=lang, other=other, switch=f"{path}?lang={other}", head=head, **fields)


def _inbox(lang: str) -> str:
    return "/?lang=en" if lang == "en" else "/"


def signin_page(lang: str, csrf: str, error: str | None, name: str, then: str = "") -> str:
    """The sign-in form; `error` a key of WORDS (wrong, locked, csrf) shown above it; `then` where to
    go once signed in (a case page the caller checked)."""
    return page(
        "signin.html",
        lang,
        "/signin",
        title=WORDS["signin"][lang],
        error=f'<p class="error" role="alert">{WORDS[error][lang]}</p>' if error else "",
        csrf=html.escape(csrf),
        then=html.escape(then),
        name=html.escape(name),
        name_label=WORDS["name"][lang],
        password_label=WORDS["password"][lang],
        submit=WORDS["submit"][lang],
    )


def _signout(lang: str, csrf: str | None) -> str:
    if not csrf:  # a token's holder gets no sign-out form
        return ""
    return (
        '<form method="post" action="/signout" class="signout">'
        f'<input type="hidden" name="csrf_token" value="{html.escape(csrf)}">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<button type="submit">{WORDS["signout"][lang]}</button></form>'
    )


def inbox_page(lang: str, user: User, scope: Scope, csrf: str | None) -> str:
    """The inbox's frame: who is signed in, their role and sites; web/inbox.js fills in the cases."""
    role = Template(WORDS[user.role][lang]).substitute(region=html.escape(user.region or ""))
    link = f'<a class="prefs" href="/notifications{_inbox(lang)[1:]}">{WORDS["notifications"][lang]}</a>'
    return page(
        "inbox.html",
        lang,
        "/",
        title=WORDS["inbox"][lang],
        name=html.escape(user.name),
        role=role,
        sites=", ".join(html.escape(site) for site in sorted(scope.sites)),
        noscript=WORDS["noscript"][lang],
        signout=_signout(lang, csrf),
        notifications=link if csrf else "",  # a browser's session: a token's holder has the API
    )


def case_page(lang: str, user: User, callback_id: str, csrf: str | None) -> str:
    """A case's frame; web/case.js fills it in from GET /v1/callbacks/{id}."""
    return page(
        "case.html",
        lang,
        "",
        title=f"{WORDS['case'][lang]} {html.escape(callback_id)}",
        back=_inbox(lang),
        back_label=WORDS["back"][lang],
        name=html.escape(user.name),
        callback=html.escape(callback_id),
        noscript=WORDS["noscript"][lang],
        signout=_signout(lang, csrf),
    )


def error_page(lang: str, word: str) -> str:
    """A refusal as a page (forbidden, missing), with the way back to the inbox."""
    return page("error.html", lang, "", title=WORDS[word][lang], back=_inbox(lang), back_label=WORDS["back"][lang])
