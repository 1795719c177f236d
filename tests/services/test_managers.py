"""The managers' app on the real stack: a real `miroir managers serve`, httpx, Redis and Kafka, and the CLI."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from typer.testing import CliRunner

from config.settings import Settings
from miroir.cli import app as cli
from processors.access import User
from schemas import codec_for
from sinks.callback_queue import CallbackQueue, callback_key
from sinks.credentials import session_key
from sinks.intake_tokens import digest
from tests.examples import EXAMPLES
from tests.integration.kafka_io import consume_all
from tools.managers import spawn_managers, with_accounts

pytestmark = pytest.mark.integration
PASSWORD = "correct horse battery"
LOCK_SECONDS = 3
WIDE = {"COLUMNS": "250"}  # rich wraps tables and messages at 80 columns when not on a terminal


@dataclass(frozen=True)
class World:
    url: str
    a1: str  # region a: a1, a2
    a2: str
    b: str  # region b: b
    region_a: str
    outcomes: str  # this module's callback-outcomes topic


def start_world(stack: Settings, folder: Path, **env: str) -> Iterator[World]:
    """A managers' app of its own: two regions of fresh sites, its own outcomes topic, a short
    sign-in lock, and `env`'s overrides; stopped when the generator is."""
    from infra.topics import ensure_topics

    run = uuid.uuid4().hex[:8]
    a1, a2, b, region_a = f"a1-{run}", f"a2-{run}", f"b-{run}", f"ra-{run}"
    sites = folder / "sites.yaml"
    sites.write_text(f"regions:\n  {region_a}:\n    sites: [{a1}, {a2}]\n  rb-{run}:\n    sites: [{b}]\n")
    outcomes = f"test-{run}-outcomes"
    ensure_topics(stack, [outcomes], partitions=1)
    service = spawn_managers(
        folder / "managers.log",
        MIROIR_MANAGERS_SITES_FILE=str(sites),
        MIROIR_MANAGERS_SIGNIN_LOCK=f"{LOCK_SECONDS}s",
        MIROIR_CALLBACK_OUTCOME_TOPIC=outcomes,
        **env,
    )
    yield World(service.url, a1, a2, b, region_a, outcomes)
    service.stop()


@pytest.fixture(scope="module")
def world(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One managers' app for the module."""
    yield from start_world(stack, tmp_path_factory.mktemp("managers"))


def account(stack: Settings, role: str, sites: tuple[str, ...] = (), region: str | None = None) -> tuple[str, str]:
    """A new account (password PASSWORD) and a personal token of it: (name, token)."""
    name = f"{role[:3]}-{uuid.uuid4().hex[:8]}"
    user = User(name, f"{name}@example.org", role, frozenset(sites), region)  # type: ignore[arg-type]

    async def add(accounts: Any, credentials: Any) -> str:
        await accounts.add_user(user, PASSWORD, time.time())
        return str(await credentials.create_token(name, "tests", time.time()))

    return name, with_accounts(stack, add)


def admit(stack: Settings, site: str, n: int) -> list[str]:
    """`n` open callbacks at `site`, admitted by the real queue; their ids, oldest first."""
    now = datetime.now(UTC)
    requests = []
    for i in range(n):
        rid = f"{site}-{uuid.uuid4().hex[:8]}"
        requests.append(
            {
                **EXAMPLES["CallbackRequest"],
                "callback_id": f"cb-{rid}",
                "response_id": rid,
                "customer_ref": f"cust-{rid}",
                "site": site,
                "contact": {"name": "Jeanne Martin", "email": "jeanne@example.org", "phone": f"+3361234567{i}"},
                "created_at": now,
                "due_at": now + timedelta(days=2),
            }
        )

    async def go() -> None:
        queue = CallbackQueue.from_url(stack.redis.dsn, quiet_days=30)
        try:
            assert await queue.admit_batch(requests, now.timestamp()) == ["admit"] * n
        finally:
            await queue.close()

    asyncio.run(go())
    return [r["callback_id"] for r in requests]


def stored(stack: Settings, callback_id: str) -> dict[str, str]:
    client: Any = redis.Redis.from_url(stack.redis.dsn, decode_responses=True)
    try:
        return dict(client.hgetall(callback_key(callback_id)))
    finally:
        client.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/signin")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert form.status_code == 200 and csrf, form.text
    return client.post("/signin", data={"name": name, "password": password, "csrf_token": csrf.group(1)})


@pytest.fixture
def browser(world: World) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=world.url, timeout=30) as client:
        yield client


def cli_as(world: World, token: str, *args: str) -> Any:
    return CliRunner().invoke(
        cli, list(args), env={"MIROIR_API_TOKEN": token, "MIROIR_MANAGERS_PUBLIC_URL": world.url, **WIDE}
    )


# ---------------------------------------------------------------- sign-in


def test_signing_in_sets_an_httponly_samesite_lax_session_cookie(
    stack: Settings, world: World, browser: httpx.Client
) -> None:
    name, _ = account(stack, "manager", (world.a1,))
    answer = sign_in(browser, name)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("miroir_session="))
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in attributes and "samesite=lax" in attributes and "path=/" in attributes
    assert "secure" not in attributes  # MIROIR_MANAGERS_SECURE_COOKIES is off here (no TLS)
    home = browser.get("/")
    assert home.status_code == 200 and name in home.text and world.a1 in home.text
    assert (
        home.headers["cache-control"] == "no-store"
        and "frame-ancestors 'none'" in home.headers["content-security-policy"]
    )
    me = browser.get("/v1/me").json()
    assert (me["name"], me["role"], me["sites"]) == (name, "manager", [world.a1]) and me["csrf_token"]
    assert browser.get("/?lang=en").text.count("Sign out") == 1


def test_a_wrong_password_and_an_unknown_name_get_the_same_401(
    stack: Settings, world: World, browser: httpx.Client
) -> None:
    name, _ = account(stack, "manager", (world.a1,))
    wrong = sign_in(browser, name, "not the password at all")
    unknown = sign_in(browser, f"nobody-{uuid.uuid4().hex[:6]}", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    said = [re.search(r'role="alert">([^<]+)<', page.text) for page in (wrong, unknown)]
    assert said[0] and said[1] and said[0].group(1) == said[1].group(1) == "Identifiant ou mot de passe incorrect."
    assert "miroir_session" not in str(wrong.headers.get_list("set-cookie"))


def test_five_wrong_passwords_lock_sign_in_even_with_the_right_one_until_the_lock_ends(
    stack: Settings, world: World, browser: httpx.Client
) -> None:
    name, _ = account(stack, "manager", (world.a1,))
    for _ in range(5):
        assert sign_in(browser, name, "a wrong password!").status_code == 401
    locked = sign_in(browser, name)  # the right password
    assert locked.status_code == 429 and 1 <= int(locked.headers["retry-after"]) <= LOCK_SECONDS
    assert "Trop d'essais" in locked.text
    assert sign_in(browser, name).status_code == 429
    time.sleep(int(locked.headers["retry-after"]) + 0.5)
    assert sign_in(browser, name).status_code == 303


# ---------------------------------------------------------------- CSRF


def test_a_cookie_session_must_send_its_csrf_token_to_change_anything(
    stack: Settings, world: World, browser: httpx.Client
) -> None:
    name, _ = account(stack, "manager", (world.a1,))
    admit(stack, world.a1, 1)
    refused = browser.post("/signin", data={"name": name, "password": PASSWORD})  # no token in the form
    assert refused.status_code == 403 and "miroir_session" not in str(refused.headers.get_list("set-cookie"))
    browser.get("/signin")
    forged = browser.post("/signin", data={"name": name, "password": PASSWORD, "csrf_token": "nonce.0000"})
    assert forged.status_code == 403

    assert sign_in(browser, name).status_code == 303
    csrf = browser.get("/v1/me").json()["csrf_token"]
    assert browser.post(f"/v1/sites/{world.a1}/claim").status_code == 403
    assert browser.post(f"/v1/sites/{world.a1}/claim", headers={"X-CSRF-Token": "guess"}).status_code == 403
    claimed = browser.post(f"/v1/sites/{world.a1}/claim", headers={"X-CSRF-Token": csrf})
    assert claimed.status_code == 200 and claimed.json()["callback"]["claimed_by"] == name

    assert browser.post("/signout", data={}).status_code == 403
    assert browser.get("/v1/me").status_code == 200  # still signed in
    assert browser.post("/signout", data={"csrf_token": csrf}).status_code == 303
    assert browser.get("/v1/me").status_code == 401


def test_a_bearer_token_needs_no_csrf_token(stack: Settings, world: World) -> None:
    _, token = account(stack, "manager", (world.a2,))
    answer = httpx.post(f"{world.url}/v1/sites/{world.a2}/claim", headers=bearer(token), timeout=30)
    assert answer.status_code == 200


# ---------------------------------------------------------------- scope


def test_a_manager_gets_403_for_another_sites_callback_through_the_api_and_the_cli(
    stack: Settings, world: World
) -> None:
    _, token = account(stack, "manager", (world.a1,))
    mine, theirs = admit(stack, world.a1, 1)[0], admit(stack, world.b, 1)[0]
    with httpx.Client(base_url=world.url, headers=bearer(token), timeout=30) as api:
        assert api.get(f"/v1/callbacks/{theirs}").status_code == 403
        assert api.get("/v1/callbacks", params={"site": world.b}).status_code == 403
        assert api.post(f"/v1/sites/{world.b}/claim").status_code == 403
        refused = api.post(
            f"/v1/callbacks/{theirs}/resolve", json={"outcome": "reached", "note": "x", "root_cause": "other"}
        )
        assert refused.status_code == 403 and refused.json()["error"]["reason"] == "not_your_site"
        listed = api.get("/v1/callbacks").json()
        assert listed["sites"] == [world.a1] and mine in [c["callback_id"] for c in listed["callbacks"]]
        assert api.get(f"/v1/callbacks/{mine}").status_code == 200
    assert stored(stack, theirs)["status"] == "open"

    shown = cli_as(world, token, "callbacks", "show", theirs)
    assert shown.exit_code == 1 and "refused" in shown.output and world.b in shown.output
    claimed = cli_as(world, token, "callbacks", "claim", "--site", world.b)
    assert claimed.exit_code == 1 and "may not see or act" in claimed.output
    listed_cli = cli_as(world, token, "callbacks", "list")
    assert listed_cli.exit_code == 0 and mine in listed_cli.output and theirs not in listed_cli.output
    assert stored(stack, theirs)["status"] == "open"


def test_a_regional_lead_sees_and_acts_on_every_site_of_the_region_only(stack: Settings, world: World) -> None:
    _, token = account(stack, "regional", region=world.region_a)
    in_a1, in_a2, in_b = admit(stack, world.a1, 1)[0], admit(stack, world.a2, 1)[0], admit(stack, world.b, 1)[0]
    with httpx.Client(base_url=world.url, headers=bearer(token), timeout=30) as api:
        listed = api.get("/v1/callbacks").json()
        ids = {c["callback_id"] for c in listed["callbacks"]}
        assert listed["sites"] == sorted([world.a1, world.a2]) and {in_a1, in_a2} <= ids and in_b not in ids
        assert api.get(f"/v1/callbacks/{in_a2}").status_code == 200
        assert api.get(f"/v1/callbacks/{in_b}").status_code == 403
        assert api.post(f"/v1/sites/{world.a2}/claim").status_code == 200
        one_each = api.get("/v1/callbacks", params={"limit": 1}).json()
        assert len(one_each["callbacks"]) == 2 and one_each["total"][world.a2] >= 1
        assert api.get("/v1/callbacks", params={"limit": 5000}).status_code == 422


def test_an_admin_sees_every_site_even_one_no_region_lists(stack: Settings, world: World) -> None:
    _, token = account(stack, "admin")
    elsewhere = f"z-{uuid.uuid4().hex[:8]}"
    far = admit(stack, elsewhere, 1)[0]
    with httpx.Client(base_url=world.url, headers=bearer(token), timeout=30) as api:
        listed = api.get("/v1/callbacks").json()
        assert elsewhere in listed["sites"] and far in {c["callback_id"] for c in listed["callbacks"]}
        assert listed["total"][elsewhere] == 1
        assert far in {
            c["callback_id"] for c in api.get("/v1/callbacks", params={"site": elsewhere}).json()["callbacks"]
        }


# ---------------------------------------------------------------- claim, resolve, audit, Kafka


def test_claim_and_resolve_change_the_queue_are_audited_and_publish_the_outcome(stack: Settings, world: World) -> None:
    name, token = account(stack, "manager", (world.a1,))
    colleague, colleagues_token = account(stack, "manager", (world.a1,))
    admit(stack, world.a1, 1)
    started = time.time()
    with httpx.Client(base_url=world.url, headers=bearer(token), timeout=30) as api:
        first = api.post(f"/v1/sites/{world.a1}/claim").json()["callback"]["callback_id"]  # the site's oldest open
        claimed = stored(stack, first)
        assert (claimed["status"], claimed["claimed_by"]) == ("claimed", name)
        mine = api.get(f"/v1/callbacks/{first}").json()
        assert mine["contact_shown"] and mine["contact_phone"].startswith("+336")

        seen_by_colleague = httpx.get(f"{world.url}/v1/callbacks/{first}", headers=bearer(colleagues_token)).json()
        assert not seen_by_colleague["contact_shown"]
        assert not [k for k in seen_by_colleague if k.startswith("contact_") and k != "contact_shown"]

        cause = {"root_cause": "late_delivery"}
        no_note = api.post(f"/v1/callbacks/{first}/resolve", json={"outcome": "reached", **cause})
        blank = api.post(f"/v1/callbacks/{first}/resolve", json={"outcome": "reached", "note": "  ", **cause})
        no_cause = api.post(f"/v1/callbacks/{first}/resolve", json={"outcome": "reached", "note": "x"})
        assert blank.status_code == 422
        assert no_note.status_code == 422 and "note" in no_note.json()["error"]["message"]
        assert no_cause.status_code == 422 and "root_cause" in no_cause.json()["error"]["message"]
        late = {"outcome": "late", "note": "x", **cause}
        assert api.post(f"/v1/callbacks/{first}/resolve", json=late).status_code == 422
        done = api.post(
            f"/v1/callbacks/{first}/resolve", json={"outcome": "reached", "note": "Rappelée, geste fait", **cause}
        )
        assert done.status_code == 200 and done.json() == {
            "callback_id": first,
            "outcome": "reached",
            "within_sla": True,
            "published": True,
        }
        resolved = stored(stack, first)
        assert (resolved["status"], resolved["resolved_by"], resolved["outcome"]) == ("resolved", name, "reached")
        assert resolved["note"] == "Rappelée, geste fait"

        audit = api.get(f"/v1/callbacks/{first}").json()["audit"]
        assert [(e["action"], e["by"], e["from"]) for e in audit] == [
            ("claimed", name, "127.0.0.1"),
            ("resolved", name, "127.0.0.1"),
        ]
        assert all(started <= e["at"] <= time.time() for e in audit) and audit[1]["outcome"] == "reached"

        other = httpx.post(
            f"{world.url}/v1/callbacks/{first}/resolve",
            headers=bearer(colleagues_token),
            json={"outcome": "refused", "note": "x", "root_cause": "other"},
        )
        assert other.status_code == 409 and name in other.json()["error"]["message"]
        assert colleague not in stored(stack, first).get("resolved_by", "")

    outcomes = [codec_for("CallbackOutcome").decode(m.value) for m in consume_all(stack, world.outcomes)]
    ours = [o for o in outcomes if o["callback_id"] == first]
    assert len(ours) == 1
    assert (ours[0]["manager"], ours[0]["outcome"], ours[0]["site"], ours[0]["note"]) == (
        name,
        "reached",
        world.a1,
        "Rappelée, geste fait",
    )


def test_the_cli_claims_and_resolves_with_a_personal_token(stack: Settings, world: World) -> None:
    name, token = account(stack, "manager", (world.b,))
    admit(stack, world.b, 1)
    claimed = cli_as(world, token, "callbacks", "claim", "--site", world.b)
    assert claimed.exit_code == 0, claimed.output
    callback = re.search(r"cb-\S+", claimed.output)
    assert callback and "+336" in claimed.output and name in claimed.output
    resolved = cli_as(
        world,
        token,
        "callbacks",
        "resolve",
        callback.group(0),
        "--outcome",
        "no_answer",
        "--note",
        "messagerie",
        "--root-cause",
        "unreachable_service",
    )
    assert resolved.exit_code == 0 and "outcome published" in resolved.output, resolved.output
    shown = cli_as(world, token, "callbacks", "show", callback.group(0))
    assert shown.exit_code == 0 and "audit" in shown.output and "from 127.0.0.1" in shown.output
    assert stored(stack, callback.group(0))["resolved_by"] == name
    no_token = cli_as(world, "", "callbacks", "list")
    assert no_token.exit_code == 2 and "MIROIR_API_TOKEN" in no_token.output


# ---------------------------------------------------------------- accounts: the CLI, disabled, expired


def test_users_added_by_the_cli_sign_in_and_a_revoked_token_stops_working(world: World, browser: httpx.Client) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    runner = CliRunner(env=WIDE)
    base = ["users", "add", "--name", name, "--email", f"{name}@example.org", "--role", "manager"]
    added = runner.invoke(cli, [*base, "--site", world.a1, "--password-stdin"], input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    twice = runner.invoke(cli, [*base, "--site", world.a1, "--password-stdin"], input=PASSWORD + "\n")
    assert twice.exit_code == 1 and "exists" in twice.output
    assert runner.invoke(cli, [*base, "--password-stdin"], input=PASSWORD + "\n").exit_code == 2  # no site
    listed = runner.invoke(cli, ["users", "list"])
    assert listed.exit_code == 0 and name in listed.output and PASSWORD not in listed.output
    assert sign_in(browser, name).status_code == 303

    created = runner.invoke(cli, ["users", "token", "create", "--name", name, "--label", "laptop"])
    token = re.search(r"mim_\S+", created.output)
    assert created.exit_code == 0 and token
    assert httpx.get(f"{world.url}/v1/me", headers=bearer(token.group(0))).json()["name"] == name
    revoked = runner.invoke(cli, ["users", "token", "revoke", "--name", name, "--label", "laptop"])
    assert revoked.exit_code == 0
    assert httpx.get(f"{world.url}/v1/me", headers=bearer(token.group(0))).status_code == 401

    reset = runner.invoke(cli, ["users", "reset", "--name", name, "--password-stdin"], input="another long one\n")
    assert reset.exit_code == 0 and "1 session(s) ended" in reset.output
    assert browser.get("/v1/me").status_code == 401
    assert sign_in(browser, name).status_code == 401
    assert sign_in(browser, name, "another long one").status_code == 303


def test_a_disabled_users_session_and_token_stop_working(stack: Settings, world: World, browser: httpx.Client) -> None:
    name, token = account(stack, "manager", (world.a1,))
    assert sign_in(browser, name).status_code == 303
    assert browser.get("/v1/me").status_code == 200
    assert httpx.get(f"{world.url}/v1/me", headers=bearer(token)).status_code == 200
    disabled = CliRunner(env=WIDE).invoke(cli, ["users", "disable", "--name", name])
    assert disabled.exit_code == 0 and "1 session(s) ended" in disabled.output
    assert browser.get("/v1/me").status_code == 401
    refused = httpx.get(f"{world.url}/v1/me", headers=bearer(token))
    assert refused.status_code == 401 and refused.json()["error"]["reason"] == "account_disabled"
    assert sign_in(browser, name).status_code == 401
    assert CliRunner().invoke(cli, ["users", "enable", "--name", name]).exit_code == 0
    assert httpx.get(f"{world.url}/v1/me", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(("field", "hours_ago"), [("last_seen", 3), ("created_at", 13)])
def test_an_expired_session_is_refused(
    stack: Settings, world: World, browser: httpx.Client, field: str, hours_ago: int
) -> None:
    """Idle (2 h unused, by default) or too old (12 h): the clocks are set back in Redis, not waited for."""
    name, _ = account(stack, "manager", (world.a1,))
    assert sign_in(browser, name).status_code == 303
    cookie = browser.cookies["miroir_session"]
    client = redis.Redis.from_url(stack.redis.dsn)
    try:
        client.hset(session_key(digest(cookie)), field, repr(time.time() - hours_ago * 3600))
    finally:
        client.close()
    refused = browser.get("/v1/me")
    assert refused.status_code == 401 and refused.json()["error"]["reason"] == "signed_out"
    assert browser.get("/", follow_redirects=False).headers["location"] == "/signin"


def test_health_and_the_api_docs(world: World) -> None:
    health = httpx.get(f"{world.url}/healthz", timeout=30)
    assert health.status_code == 200 and health.json() == {"service": "miroir-managers", "kafka": "ok", "redis": "ok"}
    spec = httpx.get(f"{world.url}/v1/openapi.json", timeout=30).json()
    assert {"/v1/callbacks", "/v1/callbacks/{callback_id}", "/v1/sites/{site}/claim", "/signin"} <= set(spec["paths"])
