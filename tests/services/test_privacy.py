"""Privacy on the real stack: the retention purge on a Redis of its own with an injected clock; erasure,
access requests and their audit through a real managers' app and the CLI; an erased person refused by a
real intake."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from typer.testing import CliRunner

from config.settings import Settings
from miroir.cli import app as cli
from processors.mapping import pseudonym as mapped_ref
from processors.privacy import DAY, Retention
from schemas import codec_for
from sinks.callback_queue import CallbackQueue, callback_key, customer_callbacks_key, customer_key, history_key
from sinks.privacy import PrivacyStore, contact_free
from tests.examples import EXAMPLES
from tests.integration.kafka_io import consume_all
from tests.services.test_intake import staff, survey
from tests.services.test_managers import WIDE, World, account, bearer, start_world, stored
from tools.bench.notify_rig import private_redis
from tools.intake import RunningIntake

pytestmark = pytest.mark.integration
RETENTION = Retention(contact_days=30, case_days=365, dead_letter_days=14, input_days=35)


def request(site: str, customer_ref: str, email: str, phone: str, verbatim: str = "Livraison ratée") -> dict[str, Any]:
    rid = f"{site}-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    return {
        **EXAMPLES["CallbackRequest"],
        "callback_id": f"cb-{rid}",
        "response_id": rid,
        "customer_ref": customer_ref,
        "site": site,
        "verbatim": verbatim,
        "contact": {"name": "Jeanne Martin", "email": email, "phone": phone},
        "created_at": now,
        "due_at": now + timedelta(days=2),
    }


def phone(run: str, n: int) -> str:
    """A number nobody else's test uses: an erasure on the shared Redis refuses it for good."""
    return f"06 {int(run, 16) % 10**7:07d}{n}"


def admit(url: str, requests: list[dict[str, Any]]) -> list[str]:
    async def go() -> None:
        queue = CallbackQueue.from_url(url, quiet_days=0)
        try:
            decisions = await queue.admit_batch(requests, datetime.now(UTC).timestamp())
            assert decisions == ["admit"] * len(requests), decisions
        finally:
            await queue.close()

    asyncio.run(go())
    return [r["callback_id"] for r in requests]


def test_the_purge_cuts_contacts_then_the_case_at_their_time_once_and_spares_open_ones(tmp_path: Path) -> None:
    with private_redis(tmp_path) as url:
        done, still_open = admit(
            url,
            [
                request("lyon", "C-1", "jeanne@example.org", "0612345678"),
                request("lyon", "C-2", "paul@example.org", "0698765432"),
            ],
        )

        async def go() -> list[Any]:
            queue, store = CallbackQueue.from_url(url, quiet_days=0), PrivacyStore.from_url(url)
            try:
                await queue.claim_id(done, "m1", 1000.0)
                # A reopening's note names people too: resolved, reopened with a note, resolved again.
                await queue.resolve(done, "reached", "a parlé à Jeanne", "m1", 2000.0, "delay")
                await queue.reopen(done, "m1", 2100.0, "Jeanne rappelle, toujours mécontente")
                await queue.claim_id(done, "m1", 2200.0)
                closed = 3000.0
                await queue.resolve(done, "resolved", "geste commercial pour Jeanne", "m1", closed, "delay")
                found: list[Any] = [await store.purge(RETENTION, closed + 29 * DAY)]
                found.append(await queue.get(done))
                found.append(await store.purge(RETENTION, closed + 30 * DAY))
                found.append(await queue.get(done))
                found.append(await store.purge(RETENTION, closed + 31 * DAY))  # again: nothing left to cut
                found.append(await store.purge(RETENTION, closed + 365 * DAY))
                found.append(await queue.get(done))
                found.append(await queue.get(still_open))
                found.append(await store.purge(RETENTION, closed + 400 * DAY))
                found.append(await store.last_purge())
                return found
            finally:
                await queue.close()
                await store.close()

        (none, before, contacts, after_contacts, again, cases, anonymised, untouched, last, purged_at) = asyncio.run(
            go()
        )
        assert none == {} and before["contact_email"] == "jeanne@example.org"
        assert contacts == {"contact": 1} and contact_free(after_contacts)
        assert after_contacts["verbatim"] == "Livraison ratée" and after_contacts["customer_ref"] == "C-1"
        assert again == {}
        assert cases == {"case": 1}
        assert not {"verbatim", "customer_ref", "note"} & anonymised.keys()
        assert "Jeanne" not in str(anonymised["history"])  # the reopening's note went with the rest
        assert anonymised["status"] == "resolved" and anonymised["site"] == "lyon" and anonymised["outcome"]
        assert anonymised["anonymised_at"] == repr(3000.0 + 365 * DAY)
        assert last == {} and purged_at == 3000.0 + 400 * DAY
        # The open case still has what its manager needs to call back; the customer's index is gone.
        assert untouched["contact_phone"] == "0698765432" and untouched["status"] == "open"
        client: Any = redis.Redis.from_url(url, decode_responses=True)
        assert not client.exists(customer_key("C-1"), customer_callbacks_key("C-1"))
        assert client.hget(customer_key("C-2"), "open") == still_open
        client.close()


@pytest.fixture(scope="module")
def managers(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from start_world(stack, tmp_path_factory.mktemp("privacy"))


def test_an_admin_erases_a_person_found_by_email_and_nobody_else_may(
    stack: Settings, managers: World, intake: RunningIntake, new_token: Any
) -> None:
    site, run = managers.a1, uuid.uuid4().hex[:8]
    email = f"jeanne-{run}@example.org"
    _, manager_token = account(stack, "manager", (site,))
    # An earlier callback of hers, resolved, under her ref and an old e-mail: found through the ref
    # that her e-mail's callback brings, and erased resolved as it is.
    (earlier,) = admit(stack.redis.dsn, [request(site, f"C-{run}", f"old-{run}@example.org", phone(run, 1))])
    with httpx.Client(base_url=managers.url, timeout=30, headers=bearer(manager_token)) as api:
        assert api.post(f"/v1/callbacks/{earlier}/claim").status_code == 200
        done = {"outcome": "reached", "note": "Jeanne rappelée", "root_cause": "late_delivery"}
        assert api.post(f"/v1/callbacks/{earlier}/resolve", json=done).status_code == 200
    linked, unlinked, other = admit(
        stack.redis.dsn,
        [
            request(site, f"C-{run}", email, phone(run, 2), "Jeanne: colis perdu"),
            request(site, f"anon-{run}", email.upper(), phone(run, 3), "pas de ref, même personne"),
            request(site, f"P-{run}", f"paul-{run}@example.org", phone(run, 4)),
        ],
    )
    _, admin_token = account(stack, "admin")
    runner = CliRunner()
    with httpx.Client(base_url=managers.url, timeout=30) as client:
        assert client.post(f"/v1/callbacks/{linked}/claim", headers=bearer(manager_token)).status_code == 200
        assert client.get(f"/v1/callbacks/{linked}", headers=bearer(manager_token)).json()["contact_email"] == email
        refused = client.post("/v1/privacy/erasures", json={"email": email}, headers=bearer(manager_token))
        assert refused.status_code == 403 and refused.json()["error"]["reason"] == "admins_only"
        both = client.post("/v1/privacy/erasures", json={"email": email, "phone": "1"}, headers=bearer(admin_token))
        assert both.status_code == 422

        erased = runner.invoke(
            cli, ["privacy", "erase", "--email", f" {email} ", "--token", admin_token, "--url", managers.url], env=WIDE
        )
        assert erased.exit_code == 0, erased.output
        assert all(c in erased.output for c in (linked, unlinked, earlier)) and other not in erased.output
        assert "not yet: Kafka topics" in erased.output and "gone by" in erased.output

        shown = client.get(f"/v1/callbacks/{linked}", headers=bearer(manager_token)).json()
        assert shown["status"] == "erased" and "contact_email" not in shown and "verbatim" not in shown
        assert any(entry["action"] == "erased" for entry in shown["audit"])
        reopened = client.post(
            f"/v1/callbacks/{earlier}/reopen", json={"note": "elle rappelle"}, headers=bearer(manager_token)
        )
        assert reopened.status_code == 409 and reopened.json()["error"]["reason"] == "erased", reopened.text
        for callback in (linked, unlinked, earlier):
            assert stored(stack, callback)["status"] == "erased"
            assert (
                not {"contact_email", "contact_phone", "contact_name", "verbatim", "customer_ref"}
                & stored(stack, callback).keys()
            )
        assert stored(stack, other)["contact_email"] == f"paul-{run}@example.org"  # nobody else
        # Nobody is given an erased person to call back: "take the next one" skips them.
        taken = client.post(f"/v1/sites/{site}/claim", headers=bearer(manager_token)).json()["callback"]
        assert taken["callback_id"] == other

        # The intake refuses them from now on, by any of their identifiers; Paul still gets in.
        _, token = new_token()
        answers = httpx.post(
            intake.url + "/v1/survey-responses",
            json=[
                survey(f"again-{run}", customer_ref=f"C-{run}"),
                survey(f"again2-{run}", customer_ref=f"new-{run}", callback_consent=True,
                       contact={"name": None, "email": f"JEANNE-{run}@example.org", "phone": None}),
                survey(f"paul-{run}", customer_ref=f"P-{run}"),
            ],
            headers=bearer(token),
            timeout=30,
        ).json()  # fmt: skip
        assert [item["status"] for item in answers["items"]] == [422, 422, 202], answers
        assert answers["items"][0]["error"]["reason"] == "erased"

        exported = runner.invoke(
            cli, ["privacy", "export", "--customer-ref", f"C-{run}", "--token", admin_token, "--url", managers.url]
        )
        assert exported.exit_code == 0, exported.output
        # Nothing left links a record to them: the cut callbacks name nobody; the export says they were erased.
        assert '"erased": true' in exported.output and '"callbacks": []' in exported.output

        audit = client.get("/v1/privacy/audit", headers=bearer(admin_token)).json()["entries"]
        assert [e["action"] for e in audit[:2]] == ["export", "erase"] and email not in str(audit)
        assert client.get("/v1/privacy/audit", headers=bearer(manager_token)).status_code == 403


def test_an_export_holds_every_record_planted_for_the_person(stack: Settings, managers: World) -> None:
    run = uuid.uuid4().hex[:8]
    ref, email = f"C-{run}", f"lea-{run}@example.org"
    planted = admit(
        stack.redis.dsn,
        [
            request(managers.a1, ref, email, phone(run, 1), "premier avis"),
            request(managers.b, f"other-ref-{run}", email, phone(run, 2), "second avis, autre site"),
        ],
    )
    _, admin_token = account(stack, "admin")
    answer = httpx.post(
        managers.url + "/v1/privacy/exports", json={"email": email}, headers=bearer(admin_token), timeout=30
    ).json()
    found = {c["callback_id"]: c for c in answer["callbacks"]}
    assert sorted(found) == sorted(planted) and answer["erased"] is False
    assert {found[c]["verbatim"] for c in planted} == {"premier avis", "second avis, autre site"}
    assert all(found[c]["history"] and found[c]["contact_email"] == email for c in planted)
    assert all(isinstance(found[c]["audit"], list) for c in planted)
    client: Any = redis.Redis.from_url(stack.redis.dsn, decode_responses=True)
    assert client.exists(callback_key(planted[0]), history_key(planted[0])) == 2
    client.close()
    # An answer that came through the Qualtrics mapping holds its ref as `qualtrics-<hash>`: asked for
    # by the ref Qualtrics knows, it is found all the same.
    (mapped,) = admit(
        stack.redis.dsn,
        [request(managers.a1, mapped_ref(f"T-{run}", "qualtrics"), f"t-{run}@example.org", phone(run, 3))],
    )
    answer = httpx.post(
        managers.url + "/v1/privacy/exports", json={"customer_ref": f"T-{run}"}, headers=bearer(admin_token), timeout=30
    ).json()
    assert [c["callback_id"] for c in answer["callbacks"]] == [mapped]


def test_a_staff_name_sent_to_the_intake_reaches_kafka_as_a_keyed_pseudonym(
    stack: Settings, intake: RunningIntake, intake_topics: dict[str, str], new_token: Any
) -> None:
    run = uuid.uuid4().hex[:8]
    _, token = new_token()
    name = f"Jean-Planté Dupont {run}"
    sent = [staff(f"f-{run}-{i}", staff_ref=name) for i in range(2)]
    answer = httpx.post(intake.url + "/v1/staff-feedback", json=sent, headers=bearer(token), timeout=30)
    assert answer.status_code == 202, answer.text
    stories = [
        codec_for("StaffFeedback").decode(m.value)
        for m in consume_all(stack, intake_topics["MIROIR_STAFF_TOPIC"])
        if f"f-{run}-".encode() in m.value
    ]
    assert len(stories) == 2 and stories[0]["staff_ref"] == stories[1]["staff_ref"]  # one person, counted once
    assert stories[0]["staff_ref"].startswith("staff-") and "Jean" not in stories[0]["staff_ref"]
    assert not any(name.encode() in m.value for m in consume_all(stack, intake_topics["MIROIR_STAFF_TOPIC"]))
