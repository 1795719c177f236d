"""The managers' inbox on the real stack: a real `miroir managers serve`, Redis and Kafka; its actions
(claim by id, release, reassign, resolve with a root cause, reopen) through the API and the CLI, their
refusals, the case page, the figures, and the live events."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from config.settings import Settings
from schemas import codec_for
from tests.integration.kafka_io import consume_all
from tests.services.test_managers import (
    World,
    account,
    admit,
    bearer,
    cli_as,
    sign_in,
    start_world,
    stored,
)
from tools.managers import spawn_managers, with_accounts

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A managers' app of this module's, its live stream's heartbeat every second."""
    yield from start_world(stack, tmp_path_factory.mktemp("inbox"), MIROIR_MANAGERS_EVENTS_HEARTBEAT="1s")


def api_of(world: World, token: str) -> httpx.Client:
    return httpx.Client(base_url=world.url, headers=bearer(token), timeout=30)


def outcomes_of(stack: Settings, world: World, callback_id: str) -> list[dict[str, Any]]:
    decoded = [codec_for("CallbackOutcome").decode(m.value) for m in consume_all(stack, world.outcomes)]
    return [o for o in decoded if o["callback_id"] == callback_id]


def test_claim_by_id_release_reassign_resolve_with_a_root_cause_each_audited(stack: Settings, world: World) -> None:
    martin, token = account(stack, "manager", (world.a1,))
    durand, durand_token = account(stack, "manager", (world.a1,))
    elsewhere, _ = account(stack, "manager", (world.b,))
    older, newer = admit(stack, world.a1, 2)
    with api_of(world, token) as api, api_of(world, durand_token) as colleague:
        claimed = api.post(f"/v1/callbacks/{newer}/claim").json()["callback"]
        assert claimed["claimed_by"] == martin and claimed["contact_shown"] and claimed["contact_phone"]
        taken = colleague.post(f"/v1/callbacks/{newer}/claim")
        assert taken.status_code == 409 and taken.json()["error"]["reason"] == "claimed" and martin in taken.text
        # "Next" skips the one claimed from its page: the colleague gets the older one.
        assert colleague.post(f"/v1/sites/{world.a1}/claim").json()["callback"]["callback_id"] == older
        assert colleague.post(f"/v1/callbacks/{newer}/release").status_code == 409  # not theirs

        released = api.post(f"/v1/callbacks/{newer}/release").json()["callback"]
        assert released["status"] == "open" and not released["contact_shown"] and "contact_phone" not in released
        assert api.post(f"/v1/callbacks/{newer}/claim").json()["callback"]["claimed_by"] == martin

        for wrong in (elsewhere, "nobody-at-all", "not a name!"):
            refused = api.post(f"/v1/callbacks/{newer}/reassign", json={"to": wrong})
            assert refused.status_code == 422 and refused.json()["error"]["reason"] == "not_of_the_site"
        moved = api.post(f"/v1/callbacks/{newer}/reassign", json={"to": durand}).json()["callback"]
        assert moved["claimed_by"] == durand and not moved["contact_shown"]
        assert colleague.get(f"/v1/callbacks/{newer}").json()["contact_shown"]

        not_yours = {"outcome": "reached", "note": "x", "root_cause": "other"}
        assert api.post(f"/v1/callbacks/{newer}/resolve", json=not_yours).status_code == 409
        unknown = colleague.post(
            f"/v1/callbacks/{newer}/resolve", json={"outcome": "reached", "note": "x", "root_cause": "astrology"}
        )
        assert unknown.status_code == 422 and "late_delivery" in unknown.text
        done = colleague.post(
            f"/v1/callbacks/{newer}/resolve",
            json={"outcome": "resolved", "note": "Geste commercial", "root_cause": "late_delivery"},
        )
        assert done.status_code == 200 and done.json()["published"]
        shown = colleague.get(f"/v1/callbacks/{newer}").json()
        assert shown["root_cause"] == "late_delivery" and shown["tabs"] == ["done"]
        assert [(e["action"], e["by"]) for e in shown["audit"]] == [
            ("claimed", martin),
            ("released", martin),
            ("claimed", martin),
            ("reassigned", martin),
            ("resolved", durand),
        ]
        assert shown["audit"][3]["to"] == durand and shown["audit"][4]["root_cause"] == "late_delivery"
        assert all(e["from"] == "127.0.0.1" for e in shown["audit"])
    [outcome] = outcomes_of(stack, world, newer)
    assert (outcome["manager"], outcome["root_cause"], outcome["schema_version"]) == (durand, "late_delivery", 2)


def test_reopen_publishes_nothing_and_the_next_resolve_a_second_outcome_counted_again(
    stack: Settings, world: World
) -> None:
    _, token = account(stack, "manager", (world.a2,))
    [case] = admit(stack, world.a2, 1)
    with api_of(world, token) as api:
        api.post(f"/v1/callbacks/{case}/claim")
        body = {"outcome": "reached", "note": "rappelée", "root_cause": "damaged_product"}
        assert api.post(f"/v1/callbacks/{case}/resolve", json=body).status_code == 200
        before = api.get(f"/v1/sites/{world.a2}/figures").json()
        assert (before["resolved"], before["within_sla_pct"]) == (1, 100.0)

        assert api.post(f"/v1/callbacks/{case}/reopen", json={"note": " "}).status_code == 422  # a reason is needed
        reopened = api.post(f"/v1/callbacks/{case}/reopen", json={"note": "toujours cassé"}).json()["callback"]
        assert reopened["status"] == "open" and reopened["history"][-1]["note"] == "toujours cassé"
        assert api.post(f"/v1/callbacks/{case}/reopen", json={"note": "x"}).status_code == 409  # open: not again
        assert len(outcomes_of(stack, world, case)) == 1  # reopening published nothing
        figures = api.get(f"/v1/sites/{world.a2}/figures").json()
        assert (figures["open"], figures["resolved"]) == (before["open"] + 1, 1)

        api.post(f"/v1/callbacks/{case}/claim")
        body = {"outcome": "resolved", "note": "remplacé", "root_cause": "damaged_product"}
        assert api.post(f"/v1/callbacks/{case}/resolve", json=body).status_code == 200
        after = api.get(f"/v1/sites/{world.a2}/figures").json()
        assert (after["open"], after["resolved"]) == (before["open"], 2)
    first, second = outcomes_of(stack, world, case)
    assert (first["outcome"], second["outcome"]) == ("reached", "resolved")
    assert second["created_at"] == first["created_at"] and second["due_at"] == first["due_at"]
    assert second["resolved_at"] > first["resolved_at"]


def test_every_action_and_page_is_refused_for_a_site_the_caller_may_not_see(stack: Settings, world: World) -> None:
    _, token = account(stack, "manager", (world.a1,))
    [theirs] = admit(stack, world.b, 1)
    with api_of(world, token) as api:
        for action, body in [
            ("claim", None),
            ("release", None),
            ("reassign", {"to": "x"}),
            ("resolve", {"outcome": "reached", "note": "x", "root_cause": "other"}),
            ("reopen", {"note": "x"}),
        ]:
            refused = api.post(f"/v1/callbacks/{theirs}/{action}", json=body)
            assert refused.status_code == 403 and refused.json()["error"]["reason"] == "not_your_site", action
        for path in (f"/v1/sites/{world.b}/figures", f"/v1/sites/{world.b}/people", f"/v1/inbox?site={world.b}"):
            assert api.get(path).status_code == 403, path
        assert api.post("/v1/callbacks/cb-nothing-here/claim").status_code == 404
        inbox = api.get("/v1/inbox").json()
        assert inbox["sites"] == [world.a1] and theirs not in {c["callback_id"] for c in inbox["callbacks"]}
    assert stored(stack, theirs)["status"] == "open"


def test_the_case_page_is_for_the_sites_people_only_and_sign_in_comes_back_to_it(stack: Settings, world: World) -> None:
    name, _ = account(stack, "manager", (world.a1,))
    [mine], [theirs] = admit(stack, world.a1, 1), admit(stack, world.b, 1)
    with httpx.Client(base_url=world.url, timeout=30) as browser:
        away = browser.get(f"/callbacks/{mine}?lang=en")
        assert away.status_code == 303 and away.headers["location"] == f"/signin?lang=en&next=/callbacks/{mine}"
        form = browser.get(away.headers["location"])
        assert f'name="next" value="/callbacks/{mine}"' in form.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf
        fields = {"name": name, "password": "correct horse battery", "csrf_token": csrf.group(1)}
        back = browser.post("/signin", data={**fields, "next": f"/callbacks/{mine}", "lang": "en"})
        assert back.status_code == 303 and back.headers["location"] == f"/callbacks/{mine}?lang=en"
        page = browser.get(f"/callbacks/{mine}")
        assert page.status_code == 200 and f'data-callback="{mine}"' in page.text and 'lang="fr"' in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe-inline" not in csp
        assert "<script>" not in page.text and '<script src="/static/case.js" defer>' in page.text
        forbidden = browser.get(f"/callbacks/{theirs}")
        assert forbidden.status_code == 403 and theirs not in forbidden.text
        assert browser.get("/callbacks/cb-nothing-here").status_code == 404
        inbox = browser.get("/?lang=en")
        assert inbox.status_code == 200 and '<script src="/static/inbox.js" defer>' in inbox.text
        assert browser.get("/static/inbox.js").headers["content-type"].startswith("text/javascript")
        assert browser.get("/static/../app.py").status_code == 404
        assert browser.get("/static/app.py").status_code == 404
        # Elsewhere than a case page, `next` is not followed (no open redirect).
        sign_in(browser, name)
        form = browser.get("/signin?next=https://evil.example/")
        assert 'name="next" value=""' in form.text


def test_a_cookie_session_needs_its_csrf_token_for_the_new_actions(stack: Settings, world: World) -> None:
    name, _ = account(stack, "manager", (world.a1,))
    [case] = admit(stack, world.a1, 1)
    with httpx.Client(base_url=world.url, timeout=30) as browser:
        assert sign_in(browser, name).status_code == 303
        csrf = browser.get("/v1/me").json()["csrf_token"]
        assert browser.post(f"/v1/callbacks/{case}/claim").status_code == 403
        assert browser.post(f"/v1/callbacks/{case}/claim", headers={"X-CSRF-Token": csrf}).status_code == 200
        assert browser.post(f"/v1/callbacks/{case}/release").status_code == 403
        assert stored(stack, case)["status"] == "claimed"


def _events(response: httpx.Response, until: Any, timeout: float = 20) -> list[dict[str, Any]]:
    """Parse the stream's messages until `until(messages)` holds."""
    messages: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    for line in response.iter_lines():
        if line == "":
            if current:
                messages.append(current)
                current = {}
            if until(messages):
                return messages
        elif line.startswith(":"):
            messages.append({"comment": line[1:].strip()})
        else:
            key, _, value = line.partition(": ")
            current[key] = json.loads(value) if key == "data" else value
        assert time.monotonic() < deadline, messages
    return messages


def test_the_live_events_show_the_callers_sites_only_resume_from_last_event_id_and_beat(
    stack: Settings, world: World
) -> None:
    _, token = account(stack, "manager", (world.a1,))
    with httpx.Client(base_url=world.url, headers=bearer(token), timeout=30) as api:
        with api.stream("GET", "/v1/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            [theirs], [mine] = admit(stack, world.b, 1), admit(stack, world.a1, 1)
            seen = _events(stream, lambda ms: any(m.get("data", {}).get("callback_id") == mine for m in ms))
        changes = [m for m in seen if m.get("event") == "change"]
        assert [m["data"]["callback_id"] for m in changes if m["data"]["callback_id"] in (mine, theirs)] == [mine]
        created = next(m for m in changes if m["data"]["callback_id"] == mine)
        assert created["data"]["action"] == "created" and created["data"]["site"] == world.a1
        assert not {"contact", "customer_ref", "verbatim"} & set(created["data"])

        api.post(f"/v1/callbacks/{mine}/claim")
        with api.stream("GET", "/v1/events", headers={"Last-Event-ID": created["id"]}) as stream:
            resumed = _events(stream, lambda ms: sum(m.get("comment") == "heartbeat" for m in ms) >= 1)
        missed = [m["data"] for m in resumed if m.get("event") == "change" and m["data"]["callback_id"] == mine]
        assert [(e["action"], e["site"]) for e in missed] == [("claimed", world.a1)]


def test_the_live_events_end_when_the_session_is_over(stack: Settings, tmp_path: Any) -> None:
    run = uuid.uuid4().hex[:8]
    sites = tmp_path / "sites.yaml"
    sites.write_text(f"regions:\n  r-{run}:\n    sites: [s-{run}]\n")
    service = spawn_managers(
        tmp_path / "managers.log",
        MIROIR_MANAGERS_SITES_FILE=str(sites),
        MIROIR_MANAGERS_SESSION_IDLE="3s",
        MIROIR_MANAGERS_EVENTS_HEARTBEAT="1s",
    )
    try:
        name, _ = account(stack, "manager", (f"s-{run}",))
        with httpx.Client(base_url=service.url, timeout=30) as browser:
            assert sign_in(browser, name).status_code == 303
            started = time.monotonic()
            with browser.stream("GET", "/v1/events") as stream:
                ended = _events(stream, lambda ms: any(m.get("event") == "signed_out" for m in ms), timeout=30)
            assert ended[-1]["event"] == "signed_out" and 3 <= time.monotonic() - started < 20
            assert browser.get("/v1/events").status_code == 401
    finally:
        service.stop()


def test_the_cli_claims_by_id_releases_reassigns_resolves_with_a_root_cause_and_reopens(
    stack: Settings, world: World
) -> None:
    name, token = account(stack, "manager", (world.b,))
    colleague, colleagues_token = account(stack, "manager", (world.b,))
    [case] = admit(stack, world.b, 1)
    causes = cli_as(world, token, "callbacks", "root-causes")
    assert causes.exit_code == 0 and "late_delivery" in causes.output and "Livraison en retard" in causes.output
    claimed = cli_as(world, token, "callbacks", "claim", case)
    assert claimed.exit_code == 0 and "+336" in claimed.output, claimed.output
    assert cli_as(world, token, "callbacks", "claim").exit_code == 2  # an id or --site
    assert cli_as(world, token, "callbacks", "release", case).exit_code == 0
    assert stored(stack, case)["status"] == "open"
    assert cli_as(world, token, "callbacks", "claim", "--site", world.b).exit_code == 0
    moved = cli_as(world, token, "callbacks", "reassign", case, "--to", colleague)
    assert moved.exit_code == 0 and stored(stack, case)["claimed_by"] == colleague
    resolved = cli_as(
        world,
        colleagues_token,
        "callbacks",
        "resolve",
        case,
        "--outcome",
        "reached",
        "--note",
        "ok",
        "--root-cause",
        "missing_item",
    )
    assert resolved.exit_code == 0 and "outcome published" in resolved.output, resolved.output
    assert stored(stack, case)["root_cause"] == "missing_item"
    reopened = cli_as(world, token, "callbacks", "reopen", case, "--note", "colis toujours incomplet")
    assert reopened.exit_code == 0 and stored(stack, case)["status"] == "open"
    again = cli_as(world, token, "callbacks", "reopen", case, "--note", "x")
    assert again.exit_code == 1 and "conflict" in again.output
    figures = cli_as(world, token, "callbacks", "figures", "--site", world.b)
    assert figures.exit_code == 0 and "1 resolved" in figures.output and "100.0 % within SLA" in figures.output
    assert name not in stored(stack, case).get("claimed_by", "")


def test_a_revoked_token_ends_its_live_stream(stack: Settings, world: World) -> None:
    name, token = account(stack, "manager", (world.a1,))
    revoked: list[bool] = []

    def revoke_once_connected_until_signed_out(messages: list[dict[str, Any]]) -> bool:
        if not revoked and any(m.get("comment") == "connected" for m in messages):
            with_accounts(stack, lambda _, credentials: credentials.revoke_token(name, "tests", time.time()))
            revoked.append(True)
        return any(m.get("event") == "signed_out" for m in messages)

    with (
        httpx.Client(base_url=world.url, headers=bearer(token), timeout=30) as api,
        api.stream("GET", "/v1/events") as stream,
    ):
        ended = _events(stream, revoke_once_connected_until_signed_out)
    assert revoked and ended[-1]["event"] == "signed_out"
