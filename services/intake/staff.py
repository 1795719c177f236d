"""The staff questionnaire: the origin method's two questions, on a phone, through a site's link.

- `GET /staff/?t=<token>[&lang=en]`: the page (`web/`, plain HTML, CSS and JS), or a page that says
  why not, in French or English: 404 for no link or one never issued, 403 for a revoked one, 429, 503.
- `GET /staff/v1/form`: what the page asks: the link's site, its journey or the journeys to pick
  from, their steps and labels.
- `POST /staff/v1/stories`: the answers. Each story answered becomes one StaffFeedback (a fresh
  uuid, the prompt it answers, the link's site, the journey of the link or the picker, the step
  picked if any), checked and sent by the intake's own code (`Intake.accept`), as
  `POST /v1/staff-feedback` would.

The page's script sends the link's token in `Authorization: Bearer`, never in a cookie, so another
site cannot post with it (no CSRF), and limits apply as for the integrations' tokens (the body's
size, the rate per link). Stories are pseudonymous: no name is asked, the token is never stored
with them (nor, for these pages, in the access log, nor the client's address), and `staff_ref` is
a random pseudonym the intake draws per submission (per POST), shared by its one or two stories:
a pseudonym per browser would make one person's stories linkable over months, and would merge the
colleagues who share a counter's tablet. A step the person picks must be one of the journey's; it
is kept as the story's `step_id`, and the mirror counts the story on that step even when the text
does not name it (steps the text names count too).
"""

from __future__ import annotations

import html
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from string import Template
from typing import Any, Protocol, get_args, runtime_checkable
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError
from redis.exceptions import RedisError

from processors.taxonomy import Journey, Taxonomy
from services.intake.ingest import Intake, Refusal, parse_json
from services.intake.limits import TooLarge, read_limited, retry_after
from services.intake.metrics import TOKEN_NAME
from services.intake.records import Problem, check_item, request_model
from sinks.intake_tokens import StaffLink

WEB_DIR = Path(__file__).parent / "web"
ASSETS = {"staff.css": "text/css; charset=utf-8", "staff.js": "text/javascript; charset=utf-8"}
PAGE, FORM, STORIES = "/staff/", "/staff/v1/form", "/staff/v1/stories"
LANGUAGES = ("fr", "en")
PROMPTS: tuple[str, ...] = get_args(request_model("staff").model_fields["prompt"].annotation)
MAX_TOKEN_CHARS = 200
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the page's address holds the link's token
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
}


@runtime_checkable
class StaffLinks(Protocol):
    """What the token store must do for links (sinks.intake_tokens.TokenStore does)."""

    async def lookup_staff_link(self, token: str) -> StaffLink | None: ...


class _Story(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: StrictStr
    verbatim: StrictStr
    step_id: StrictStr | None = None


class _Stories(BaseModel):
    model_config = ConfigDict(extra="forbid")
    journey_id: StrictStr | None = None
    stories: list[_Story] = Field(max_length=len(PROMPTS))


def link_journey(link: StaffLink, taxonomy: Taxonomy) -> Journey | None:
    """The journey a link names (None when it names none, or one the taxonomy no longer has:
    then the person picks, rather than every story being refused)."""
    return taxonomy.journey(link.journey) if link.journey else None


def form(link: StaffLink, taxonomy: Taxonomy) -> dict[str, Any]:
    """What the page asks: the journey is the link's, else one of the taxonomy's (or none)."""
    fixed = link_journey(link, taxonomy)
    journeys = [fixed] if fixed else list(taxonomy.journeys.values())
    return {
        "site": link.site,
        "journey": fixed.id if fixed else None,
        "journeys": [
            {"id": j.id, "label": j.label, "steps": [{"id": s.id, "label": s.label} for s in j.steps]} for j in journeys
        ],
        "prompts": list(PROMPTS),
        "max_chars": taxonomy.thresholds.max_verbatim_chars,
    }


def staff_items(
    body: Any, link: StaffLink, taxonomy: Taxonomy, now: float, new_id: Callable[[], str], staff_ref: str
) -> list[tuple[str, dict[str, Any]]] | Problem:
    """The page's answers -> (prompt, StaffFeedback item) per story answered, or the Problem.
    A blank story is a question left unanswered; at least one must be answered."""
    try:
        parsed = _Stories.model_validate(body)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        return Problem(".".join(str(p) for p in first["loc"]) or None, "invalid_field", first["msg"])
    fixed = link_journey(link, taxonomy)
    if fixed and parsed.journey_id not in (None, fixed.id):
        return Problem("journey_id", "journey_fixed", f"this link is for the journey {fixed.id!r}")
    journey_id = fixed.id if fixed else parsed.journey_id
    journey = taxonomy.journey(journey_id) if journey_id else None
    if journey_id and journey is None:
        return Problem("journey_id", "unknown_journey", f"no journey {journey_id!r} ({', '.join(taxonomy.journeys)})")
    items: list[tuple[str, dict[str, Any]]] = []
    for index, story in enumerate(parsed.stories):
        where = f"stories.{index}"
        if story.prompt not in PROMPTS or story.prompt in (prompt for prompt, _ in items):
            return Problem(f"{where}.prompt", "invalid_field", f"one story per prompt, of {', '.join(PROMPTS)}")
        if story.step_id is not None and (journey is None or journey.step(story.step_id) is None):
            return Problem(f"{where}.step_id", "unknown_step", f"{story.step_id!r} is not a step of {journey_id}")
        if not story.verbatim.strip():
            continue
        item = {
            "feedback_id": new_id(),
            "staff_ref": staff_ref,
            "site": link.site,
            "journey_id": journey_id,
            "step_id": story.step_id,
            "prompt": story.prompt,
            "verbatim": story.verbatim.strip(),
            "event_time": datetime.fromtimestamp(now, UTC).isoformat(),
        }
        items.append((story.prompt, item))
    if not items:
        return Problem("stories", "no_story", "answer at least one of the two questions")
    return items


def pseudonym() -> str:
    """A submission's staff_ref: random, tied to nothing (not the link, not the browser)."""
    return f"anon-{secrets.token_hex(8)}"


def language(request: Request) -> str:
    lang = request.query_params.get("lang", "")
    return lang if lang in LANGUAGES else LANGUAGES[0]


@cache
def _asset(name: str) -> str:
    return (WEB_DIR / name).read_text(encoding="utf-8")


def refused_page(status: int, lang: str, query: dict[str, str]) -> str:
    """The page a bad link opens, in `lang`, with a switch to the other language (same query);
    its words are in web/refused.json (status -> language -> title and message)."""
    words = json.loads(_asset("refused.json"))
    entry = (words.get(str(status)) or words["503"])[lang]
    title, message = entry["title"], entry["message"]
    other = LANGUAGES[1 - LANGUAGES.index(lang)]
    return Template(_asset("refused.html")).substitute(
        lang=lang,
        title=html.escape(title),
        message=html.escape(message),
        other=other,
        switch=html.escape("?" + urlencode({**query, "lang": other})),
    )


def redact_access(args: Any) -> Any:
    """uvicorn's access-log arguments (client, method, path, version, status) with a staff page's
    token and client address left out: a log line must not hold what opens the door, nor who."""
    if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and args[2].startswith("/staff"):
        return ("-", args[1], args[2].split("?", 1)[0], *args[3:])
    return args


class _RedactStaffAccess(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.args = redact_access(record.args)
        return True


async def _link(request: Request, token: str | None, unknown: int) -> StaffLink:
    """The link of this token, or the Refusal (`unknown`: 404 for the page, 401 for the API)."""
    intake: Intake = request.app.state.intake
    store = intake.tokens
    if not token or len(token) > MAX_TOKEN_CHARS or not isinstance(store, StaffLinks):
        raise Refusal(unknown, "unknown_link", "open the questionnaire with your site's link")
    try:
        link = await store.lookup_staff_link(token)
    except (RedisError, OSError) as error:
        raise Refusal(
            503, "redis_unavailable", f"links cannot be checked: {error}", headers=intake.retry_after()
        ) from None
    if link is None:
        raise Refusal(unknown, "unknown_link", "this link was never issued")
    setattr(request.state, TOKEN_NAME, f"staff:{link.name}")
    if link.revoked:
        raise Refusal(403, "revoked_link", f"the staff link {link.name!r} was revoked")
    wait = request.app.state.limiter.take(f"staff:{link.name}", time.monotonic())
    if wait > 0:
        raise Refusal(
            429, "rate_limited", "too many requests through this link", headers={"Retry-After": retry_after(wait)}
        )
    return link


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


router = APIRouter()


@router.get(PAGE, include_in_schema=False)
async def staff_page(request: Request) -> Response:
    lang = language(request)
    try:
        await _link(request, request.query_params.get("t"), 404)
    except Refusal as refusal:
        headers = {**HEADERS, **refusal.headers}
        return HTMLResponse(
            refused_page(refusal.status, lang, dict(request.query_params)), status_code=refusal.status, headers=headers
        )
    return HTMLResponse(_asset("index.html"), headers=HEADERS)


@router.get("/staff/static/{name}", include_in_schema=False)
async def staff_asset(name: str) -> Response:
    if name not in ASSETS:
        raise Refusal(404, "no_asset", f"no asset {name!r}")
    return Response(_asset(name), media_type=ASSETS[name], headers={"X-Content-Type-Options": "nosniff"})


@router.get(FORM, summary="The staff questionnaire's form for a link (Authorization: Bearer <link token>)")
async def staff_form(request: Request) -> JSONResponse:
    link = await _link(request, _bearer(request), 401)
    return JSONResponse(form(link, request.app.state.intake.taxonomy), headers=HEADERS)


@router.post(STORIES, summary="The staff questionnaire's answers: one StaffFeedback per story (202: in Kafka)")
async def staff_stories(request: Request) -> JSONResponse:
    link = await _link(request, _bearer(request), 401)
    intake: Intake = request.app.state.intake
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise Refusal(415, "not_json", "send Content-Type: application/json")
    limit = min(intake.settings.max_body_bytes, len(PROMPTS) * 6 * intake.taxonomy.thresholds.max_verbatim_chars + 4096)
    try:
        body = await read_limited(request.stream(), request.headers.get("content-length"), limit)
    except TooLarge as error:
        raise Refusal(413, "too_large", str(error)) from None
    now = intake.clock()
    parsed = staff_items(parse_json(body), link, intake.taxonomy, now, lambda: str(uuid.uuid4()), pseudonym())
    if isinstance(parsed, Problem):
        raise Refusal(422, parsed.reason, parsed.message, field=parsed.field)
    for prompt, item in parsed:  # one story refused refuses both: none is sent
        checked = check_item("staff", item, intake.taxonomy, now)
        if isinstance(checked, Problem):
            raise Refusal(422, checked.reason, checked.message, field=f"{prompt}.{checked.field}")
    answer = await intake.accept("staff", [item for _, item in parsed])
    accepted = [prompt for (prompt, _), row in zip(parsed, answer.body["items"], strict=True) if row["status"] == 202]
    if len(accepted) == len(parsed):
        return JSONResponse({"status": "accepted", "accepted": accepted}, status_code=202, headers=HEADERS)
    problem = Problem(None, "kafka_unavailable", "not every story could be saved; send the others again")
    body_out = {"error": problem.as_json(), "accepted": accepted}
    return JSONResponse(body_out, status_code=answer.status, headers={**HEADERS, **answer.headers})


def install(app: FastAPI) -> None:
    """Serve the staff questionnaire from this app, and keep its links out of the access log."""
    app.include_router(router)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactStaffAccess) for f in access.filters):
        access.addFilter(_RedactStaffAccess())
