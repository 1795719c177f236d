"""The managers' HTML pages (web/: plain HTML and CSS, no build step), in French or English."""

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
    "hint": {
        "fr": "La boîte de réception arrive bientôt ; en attendant, vos rappels se traitent avec "
        "« miroir callbacks » et un jeton personnel.",
        "en": "The inbox is coming; meanwhile, handle your callbacks with `miroir callbacks` and a personal token.",
    },
    "signout": {"fr": "Se déconnecter", "en": "Sign out"},
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


def signin_page(lang: str, csrf: str, error: str | None, name: str) -> str:
    """The sign-in form; `error` a key of WORDS (wrong, locked, csrf) shown above it."""
    other = _other(lang)
    return _template("signin.html").substitute(
        lang=lang,
        title=WORDS["signin"][lang],
        other=other,
        switch=f"/signin?lang={other}",
        error=f'<p class="error" role="alert">{WORDS[error][lang]}</p>' if error else "",
        csrf=html.escape(csrf),
        name=html.escape(name),
        name_label=WORDS["name"][lang],
        password_label=WORDS["password"][lang],
        submit=WORDS["submit"][lang],
    )


def home_page(lang: str, user: User, scope: Scope, csrf: str | None) -> str:
    """Who is signed in and the sites they see; a sign-out form for a browser's session."""
    other = _other(lang)
    role = Template(WORDS[user.role][lang]).substitute(region=html.escape(user.region or ""))
    signout = (
        '<form method="post" action="/signout">'
        f'<input type="hidden" name="csrf_token" value="{html.escape(csrf)}">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<button type="submit">{WORDS["signout"][lang]}</button></form>'
        if csrf
        else ""
    )
    return _template("home.html").substitute(
        lang=lang,
        title=Template(WORDS["hello"][lang]).substitute(name=html.escape(user.name)),
        other=other,
        switch=f"/?lang={other}",
        role=role,
        sites="".join(f"<li>{html.escape(site)}</li>" for site in sorted(scope.sites)),
        hint=WORDS["hint"][lang],
        signout=signout,
    )
