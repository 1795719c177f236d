"""The staff questionnaire (services/intake/staff.py): its pure parts, the app with Kafka and Redis
faked, then a real `miroir intake serve` with links made by `miroir intake staff-link`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from itertools import count
from typing import Any

import httpx
import pytest

from config.settings import Settings
from processors.config import pipeline_config
from schemas import codec_for
from schemas.codec import SCHEMA_DIR
from services.intake.app import create_app
from services.intake.records import Problem
from services.intake.staff import FORM, PAGE, PROMPTS, STORIES, form, pseudonym, redact_access, staff_items
from sinks.intake_tokens import StaffLink
from tests.integration.kafka_io import consume_all
from tests.services.fakes import GOOD, FakeErasures, FakeSender, FakeTokens
from tools.intake import RunningIntake, with_tokens

TAXONOMY = pipeline_config().taxonomy
NOW = 1_795_000_000.0
LYON = StaffLink("lyon.home_delivery", "lyon", "home_delivery", 0.0, None)
PICKED = StaffLink("paris", "paris", None, 0.0, None)
LINKS = {"mis_lyon": LYON, "mis_paris": PICKED, "mis_old": StaffLink("old", "old", None, 0.0, 5.0)}
POSITIVE = "Une cliente est revenue me remercier pour le montage de son armoire."
FRUSTRATING = "Le client attendait sa livraison depuis trois semaines, sans nouvelles."


def stories(*pairs: tuple[str, str], **changes: Any) -> dict[str, Any]:
    return {"journey_id": None, "stories": [{"prompt": p, "verbatim": v} for p, v in pairs], **changes}


def items(body: Any, link: StaffLink = LYON) -> list[tuple[str, dict[str, Any]]] | Problem:
    ids = count()
    return staff_items(body, link, TAXONOMY, NOW, lambda: f"id-{next(ids)}", "anon-1")


# ---------------------------------------------------------------- pure parts


def test_each_story_answered_is_one_staff_feedback_of_the_links_site_and_journey() -> None:
    answered = items(stories(("most_positive", POSITIVE), ("most_frustrating", FRUSTRATING)))
    assert not isinstance(answered, Problem)
    assert [prompt for prompt, _ in answered] == ["most_positive", "most_frustrating"]
    first, second = (item for _, item in answered)
    assert first == {
        "feedback_id": "id-0",
        "staff_ref": "anon-1",
        "site": "lyon",
        "journey_id": "home_delivery",
        "step_id": None,
        "prompt": "most_positive",
        "verbatim": POSITIVE,
        "event_time": "2026-11-18T11:06:40+00:00",
    }
    assert second["feedback_id"] == "id-1" and second["staff_ref"] == "anon-1"  # one pseudonym per submission


def test_a_blank_story_is_a_question_left_unanswered_and_one_is_needed() -> None:
    answered = items(stories(("most_positive", "  \n "), ("most_frustrating", f"  {FRUSTRATING}\n")))
    assert not isinstance(answered, Problem)
    assert [(p, i["verbatim"]) for p, i in answered] == [("most_frustrating", FRUSTRATING)]
    assert items(stories(("most_positive", " "))) == Problem(
        "stories", "no_story", "answer at least one of the two questions"
    )
    assert isinstance(none := items(stories()), Problem) and none.reason == "no_story"


def test_the_journey_is_the_links_else_the_one_picked_else_none() -> None:
    picked = items(stories(("most_positive", POSITIVE), journey_id="click_collect"), PICKED)
    assert not isinstance(picked, Problem) and picked[0][1]["journey_id"] == "click_collect"
    unpicked = items(stories(("most_positive", POSITIVE)), PICKED)
    assert not isinstance(unpicked, Problem) and unpicked[0][1]["journey_id"] is None
    other = items(stories(("most_positive", POSITIVE), journey_id="click_collect"), LYON)
    assert isinstance(other, Problem) and (other.field, other.reason) == ("journey_id", "journey_fixed")
    unknown = items(stories(("most_positive", POSITIVE), journey_id="moon_trip"), PICKED)
    assert isinstance(unknown, Problem) and unknown.reason == "unknown_journey"


def test_a_picked_step_is_checked_against_the_journey_and_kept() -> None:
    body = stories(("most_frustrating", FRUSTRATING))
    body["stories"][0]["step_id"] = "delivery"
    answered = items(body)
    assert not isinstance(answered, Problem) and answered[0][1]["step_id"] == "delivery"
    body["stories"][0]["step_id"] = "boarding"
    wrong = items(body)
    assert isinstance(wrong, Problem) and (wrong.field, wrong.reason) == ("stories.0.step_id", "unknown_step")
    no_journey = items(body, PICKED)
    assert isinstance(no_journey, Problem) and no_journey.reason == "unknown_step"


@pytest.mark.parametrize(
    "body",
    [
        stories(("most_positive", POSITIVE), name="Jeanne Martin"),  # no field that identifies
        {"stories": [{"prompt": "most_positive", "verbatim": POSITIVE, "staff_ref": "jeanne"}]},
        stories(("most_positive", POSITIVE), ("most_positive", FRUSTRATING)),
        stories(("most_boring", POSITIVE)),
        stories(("most_positive", POSITIVE), ("most_frustrating", POSITIVE), ("most_positive", POSITIVE)),
        {"stories": [{"prompt": "most_positive", "verbatim": 3}]},
        [POSITIVE],
    ],
)
def test_anything_else_is_refused_naming_the_field(body: Any) -> None:
    refused = items(body)
    assert isinstance(refused, Problem) and refused.reason == "invalid_field"
    assert (refused.field is None) == isinstance(body, list)  # the field, unless the body is no object


def test_the_prompts_are_the_schemas() -> None:
    schema = json.loads((SCHEMA_DIR / "StaffFeedback.avsc").read_text())
    [prompt] = [field for field in schema["fields"] if field["name"] == "prompt"]
    assert tuple(prompt["type"]["symbols"]) == PROMPTS


def test_the_form_offers_the_links_journey_or_every_journey() -> None:
    fixed = form(LYON, TAXONOMY)
    assert fixed["site"] == "lyon" and fixed["journey"] == "home_delivery"
    assert [j["id"] for j in fixed["journeys"]] == ["home_delivery"]
    assert {"id": "delivery", "label": {"fr": "Livraison", "en": "Delivery"}} in fixed["journeys"][0]["steps"]
    assert fixed["max_chars"] == TAXONOMY.thresholds.max_verbatim_chars
    assert [j["id"] for j in form(PICKED, TAXONOMY)["journeys"]] == list(TAXONOMY.journeys)
    gone = StaffLink("x", "x", "journey_since_removed", 0.0, None)
    assert form(gone, TAXONOMY)["journey"] is None  # the person picks, rather than every story refused


def test_pseudonyms_are_random_per_submission() -> None:
    refs = {pseudonym() for _ in range(100)}
    assert len(refs) == 100 and all(ref.startswith("anon-") and len(ref) == 21 for ref in refs)


def test_the_access_log_keeps_no_link_and_no_address_of_a_staff_page() -> None:
    line = ("10.1.2.3:5555", "GET", "/staff/?t=mis_secret&lang=en", "1.1", 200)
    assert redact_access(line) == ("-", "GET", "/staff/", "1.1", 200)
    other = ("10.1.2.3:5555", "POST", "/v1/survey-responses", "1.1", 202)
    assert redact_access(other) == other


# ---------------------------------------------------------------- the app, Kafka and Redis faked


class FakeLinks(FakeTokens):
    async def lookup_staff_link(self, token: str) -> StaffLink | None:
        return LINKS.get(token)


@pytest.fixture
async def app(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[httpx.AsyncClient, FakeSender]]:
    monkeypatch.setenv("MIROIR_INTAKE_RATE_BURST", "5")
    monkeypatch.setenv("MIROIR_INTAKE_RATE_PER_TOKEN", "0.01")
    sender = FakeSender()
    asgi = create_app(Settings(), sender=sender, tokens=FakeLinks(), erasures=FakeErasures())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://intake") as http:
        yield http, sender


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_page_opens_with_a_link_and_says_why_not_without(app: Any) -> None:
    http, _ = app
    page = await http.get(PAGE, params={"t": "mis_lyon"})
    assert page.status_code == 200 and 'id="most_positive"' in page.text
    assert (
        page.headers["referrer-policy"] == "no-referrer"
        and "script-src 'self'" in page.headers["content-security-policy"]
    )
    for params, status, words in [
        ({}, 404, "Lien introuvable"),
        ({"t": "mis_never"}, 404, "Lien introuvable"),
        ({"t": "mis_never", "lang": "en"}, 404, "Link not found"),
        ({"t": "mis_old"}, 403, "Lien retiré"),
        ({"t": "mis_old", "lang": "en"}, 403, "Link withdrawn"),
        ({"t": GOOD}, 404, "Lien introuvable"),  # an integration's token is no staff link
    ]:
        refused = await http.get(PAGE, params=params)
        assert (refused.status_code, refused.headers["content-type"]) == (status, "text/html; charset=utf-8")
        assert words in refused.text and "Traceback" not in refused.text
    for name, kind in [("staff.js", "text/javascript"), ("staff.css", "text/css")]:
        asset = await http.get(f"/staff/static/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
    assert (await http.get("/staff/static/../app.py")).status_code == 404


async def test_stories_posted_with_the_link_reach_the_staff_topic(app: Any) -> None:
    http, sender = app
    form_answer = await http.get(FORM, headers=bearer("mis_paris"))
    assert form_answer.status_code == 200 and form_answer.json()["journey"] is None
    body = stories(("most_positive", POSITIVE), ("most_frustrating", FRUSTRATING), journey_id="home_delivery")
    body["stories"][1]["step_id"] = "delivery_booking"
    answer = await http.post(STORIES, json=body, headers=bearer("mis_paris"))
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"status": "accepted", "accepted": ["most_positive", "most_frustrating"]}
    codec = codec_for("StaffFeedback")
    sent = [(topic, key, codec.decode(value)) for topic, key, value in sender.sent]
    assert {topic for topic, _, _ in sent} == {Settings().pipeline.topics.staff_feedback}
    assert [key for _, key, _ in sent] == [record["feedback_id"] for _, _, record in sent]
    assert all(str(uuid.UUID(key)) == key for _, key, _ in sent)
    records = [record for _, _, record in sent]
    assert [(r["site"], r["journey_id"], r["step_id"], r["prompt"]) for r in records] == [
        ("paris", "home_delivery", None, "most_positive"),
        ("paris", "home_delivery", "delivery_booking", "most_frustrating"),
    ]
    assert records[0]["staff_ref"] == records[1]["staff_ref"] and "mis_paris" not in repr(records)


async def test_the_api_refuses_as_the_intake_does(app: Any) -> None:
    http, sender = app
    one = stories(("most_positive", POSITIVE))
    assert (await http.post(STORIES, json=one)).status_code == 401
    assert (await http.post(STORIES, json=one, headers=bearer("mis_never"))).status_code == 401
    assert (await http.post(STORIES, json=one, headers=bearer(GOOD))).status_code == 401
    assert (await http.post(STORIES, json=one, headers=bearer("mis_old"))).json()["error"]["reason"] == "revoked_link"
    assert (await http.post("/v1/staff-feedback", json={}, headers=bearer("mis_lyon"))).status_code == 401
    as_form = await http.post(
        STORIES, content=b"stories=x", headers={**bearer("mis_lyon"), "Content-Type": "text/plain"}
    )
    assert as_form.status_code == 415  # no form post from another site
    huge = stories(("most_positive", "x" * 70_000))
    assert (await http.post(STORIES, json=huge, headers=bearer("mis_lyon"))).status_code == 413
    long = await http.post(STORIES, json=stories(("most_positive", "x" * 5001)), headers=bearer("mis_lyon"))
    assert long.status_code == 422 and long.json()["error"]["reason"] == "verbatim_too_long"
    assert sender.sent == []
    codes = [(await http.get(FORM, headers=bearer("mis_lyon"))).status_code for _ in range(5)]
    assert 429 in codes and int((await http.get(PAGE, params={"t": "mis_lyon"})).headers["retry-after"]) >= 1


async def test_kafka_down_is_503_and_nothing_is_said_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    asgi = create_app(Settings(), sender=FakeSender(down=True), tokens=FakeLinks(), erasures=FakeErasures())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://intake") as http:
        answer = await http.post(STORIES, json=stories(("most_positive", POSITIVE)), headers=bearer("mis_lyon"))
    assert answer.status_code == 503 and int(answer.headers["retry-after"]) >= 1


# ---------------------------------------------------------------- a real intake, Kafka and Redis


@pytest.fixture
def site() -> Iterator[str]:
    name = f"test-staff-{uuid.uuid4().hex[:8]}"
    yield name
    for link in (name, f"{name}.home_delivery"):
        with_tokens(Settings(), lambda store, link=link: store.forget_staff_link(link))  # type: ignore[misc]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "miroir.cli", "intake", "staff-link", *args]
    env = {**os.environ, "COLUMNS": "250"}  # a table a line per link
    return subprocess.run(command, capture_output=True, text=True, check=True, env=env)


@pytest.mark.integration
def test_a_link_from_the_cli_takes_stories_into_kafka_until_revoked(
    stack: Settings, intake: RunningIntake, intake_topics: dict[str, str], site: str
) -> None:
    created = cli("--site", site, "--journey", "home_delivery", "--base-url", intake.url)
    url = created.stdout.strip()  # the link alone on stdout
    assert url.startswith(f"{intake.url}/staff/?t=mis_") and url not in created.stderr
    token = url.split("t=", 1)[1]
    assert httpx.get(url, timeout=30).status_code == 200
    assert httpx.get(f"{url}&lang=en", timeout=30).status_code == 200
    assert httpx.get(f"{intake.url}/staff/?t=mis_never-issued", timeout=30).status_code == 404
    assert httpx.get(f"{intake.url}/staff/v1/form", headers=bearer(token), timeout=30).json()["site"] == site

    body = stories(("most_positive", POSITIVE), ("most_frustrating", FRUSTRATING))
    answer = httpx.post(f"{intake.url}{STORIES}", json=body, headers=bearer(token), timeout=30)
    assert answer.status_code == 202, answer.text
    codec = codec_for("StaffFeedback")
    mine = [
        codec.decode(m.value)
        for m in consume_all(stack, intake_topics["MIROIR_STAFF_TOPIC"])
        if codec.decode(m.value)["site"] == site
    ]
    assert sorted(r["prompt"] for r in mine) == ["most_frustrating", "most_positive"]
    assert {r["journey_id"] for r in mine} == {"home_delivery"} and len({r["staff_ref"] for r in mine}) == 1
    assert token not in repr(mine)

    listed = cli("--list").stdout
    assert site in listed and token not in listed
    cli("--revoke", "--site", site, "--journey", "home_delivery")
    withdrawn = httpx.get(url, timeout=30)
    assert withdrawn.status_code == 403 and "Lien retiré" in withdrawn.text
    again = httpx.post(f"{intake.url}{STORIES}", json=body, headers=bearer(token), timeout=30)
    assert again.status_code == 403 and again.json()["error"]["reason"] == "revoked_link"


@pytest.mark.integration
def test_a_second_link_for_one_site_needs_the_first_revoked(stack: Settings, site: str) -> None:
    cli("--site", site)
    command = [sys.executable, "-m", "miroir.cli", "intake", "staff-link", "--site", site]
    second = subprocess.run(command, capture_output=True, text=True)
    assert second.returncode == 1 and "revoke it first" in second.stderr and second.stdout == ""
