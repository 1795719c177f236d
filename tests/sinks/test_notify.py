"""The notifier against a real Redis, a real SMTP server (aiosmtpd) and a real webhook receiver.

Each test has a Redis of its own (redis-server on a free port): the outbox's consumer group is
global, and a worker of another test on the shared stack would take these entries."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from processors.access import User, parse_hierarchy
from processors.notifications import Backoff, ChatChannel, Preferences, QuietHours
from processors.notify_messages import verify
from sinks.accounts import AccountStore
from sinks.callback_queue import CallbackQueue
from sinks.notify.config import NotifyConfig
from sinks.notify.notifier import Notifier
from sinks.notify.senders import SmtpConfig
from sinks.notify.store import NotifyStore
from tools.bench.notify_rig import private_redis
from tools.receivers import SmtpReceiver, WebhookReceiver, wait_until

pytestmark = pytest.mark.integration
PARIS = ZoneInfo("Europe/Paris")
SITE = "lyon"
HIERARCHY = parse_hierarchy({"regions": {"sud-est": {"sites": [SITE]}, "nord": {"sites": ["lille"]}}})
LINK = "https://managers.example.org"
SECRET = "json-channel-secret"


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with private_redis(tmp_path) as url:
        yield url


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as server:
        yield server


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


class Rig:
    """The stores on the test's Redis, and notifiers made on them."""

    def __init__(self, url: str) -> None:
        self.queue = CallbackQueue.from_url(url, quiet_days=30)
        self.accounts = AccountStore.from_url(url)
        self.store = NotifyStore.from_url(url)
        self.http = httpx.AsyncClient(timeout=5)
        self.notifiers: list[Notifier] = []

    def notifier(self, config: NotifyConfig, consumer: str = "n1") -> Notifier:
        self.notifiers.append(Notifier(config, self.queue, self.accounts, self.store, self.http, consumer))
        return self.notifiers[-1]

    async def close(self) -> None:
        for notifier in self.notifiers:
            await notifier.close()
        await self.http.aclose()
        for client in (self.queue, self.accounts, self.store):
            await client.close()

    async def user(self, user: User, prefs: Preferences | None = None) -> None:
        await self.accounts.add_user(user, "a long enough password", time.time())
        if prefs:
            await self.accounts.set_preferences(user.name, prefs)

    async def admit(self, n: int, site: str = SITE, due_in: float = 48 * 3600) -> list[str]:
        now = time.time()
        requests = [callback_request(site, now, due_in) for _ in range(n)]
        assert await self.queue.admit_batch(requests, now) == ["admit"] * n
        return [r["callback_id"] for r in requests]


@pytest.fixture
async def rig(redis_url: str) -> AsyncIterator[Rig]:
    found = Rig(redis_url)
    yield found
    await found.close()


def callback_request(site: str, now: float, due_in: float) -> dict[str, Any]:
    response = f"r-{uuid.uuid4().hex[:10]}"
    return {
        "callback_id": f"cb-{response}",
        "response_id": response,
        "customer_ref": f"cust-{response}",
        "contact": {"name": "Jeanne Martin", "email": "jeanne.martin@example.org", "phone": "+33611223344"},
        "site": site,
        "journey_id": "home_delivery",
        "step_id": "delivery",
        "score": 2,
        "score_scale": "NPS",
        "verbatim": "Rappelez-moi au 06 11 22 33 44 svp",
        "priority": "high",
        "created_at": datetime.fromtimestamp(now).astimezone(),
        "due_at": datetime.fromtimestamp(now + due_in).astimezone(),
    }


def config(smtp: SmtpReceiver | None = None, channels: tuple[ChatChannel, ...] = (), **kw: Any) -> NotifyConfig:
    server = SmtpConfig(smtp.host, smtp.port, "none", "Miroir <miroir@example.org>", timeout=5) if smtp else None
    return NotifyConfig(LINK, HIERARCHY, server, channels, PARIS, backoff=Backoff(0.2, 1.0, 60.0), **kw)


def manager(name: str, site: str = SITE) -> User:
    return User(name, f"{name}@example.org", "manager", frozenset({site}))


async def rounds(notifier: Notifier, n: int = 3) -> None:
    for _ in range(n):
        await notifier.round(50)


CUSTOMER = ("+33611223344", "06 11 22 33 44", "jeanne.martin@example.org", "Jeanne", "cust-r-")


async def test_one_email_per_callback_and_manager_no_contact_in_it_and_never_again_after_a_restart(
    rig: Rig, smtp: SmtpReceiver
) -> None:
    await rig.user(manager("m.lyon"))
    await rig.user(manager("m.quiet"), Preferences(email=False))
    await rig.user(manager("m.lille", "lille"))
    callbacks = await rig.admit(3)
    await rounds(rig.notifier(config(smtp)))
    mails = wait_until(lambda: len(smtp.received()) >= 3 and smtp.received(), timeout=10)
    assert sorted(m.recipients for m in mails) == [("m.lyon@example.org",)] * 3
    for callback in callbacks:
        (mail,) = [m for m in mails if f"{LINK}/callbacks/{callback}" in m.text.split()]
        assert "Nouveau rappel client" in mail.message["Subject"] and mail.message["X-Miroir-Delivery"]
        assert not [s for s in CUSTOMER if s in mail.message.as_string()]
    # A restart of the same notifier, and a second one, send nothing again.
    await rounds(rig.notifier(config(smtp)))
    await rounds(rig.notifier(config(smtp), consumer="n2"))
    time.sleep(0.5)
    assert len(smtp.received()) == 3
    assert await rig.store.pending() == 0


async def test_an_escalation_goes_to_the_managers_and_the_regional_lead_and_to_the_chat_channels(
    rig: Rig, smtp: SmtpReceiver, hooks: WebhookReceiver
) -> None:
    await rig.user(manager("m.lyon"))
    await rig.user(User("r.sud", "r.sud@example.org", "regional", region="sud-est"), Preferences(language="en"))
    channels = (
        ChatChannel("slack", "slack", _secret(hooks.url("/slack")), sites=frozenset({SITE})),
        ChatChannel(
            "teams",
            "teams",
            _secret(hooks.url("/teams")),
            regions=frozenset({"sud-est"}),
            events=frozenset({"escalated"}),
        ),
        ChatChannel("crm", "json", _secret(hooks.url("/json")), sites=frozenset({SITE}), secret=_secret(SECRET)),
    )
    (callback,) = await rig.admit(1, due_in=1)
    notifier = rig.notifier(config(smtp, channels))
    await rounds(notifier, 2)
    assert await rig.queue.escalate_overdue(time.time() + 5) == [callback]
    await rounds(notifier, 2)
    assert wait_until(lambda: len(smtp.received()) == 3 and len(hooks.received()) == 5, timeout=10)
    escalated = [
        m for m in smtp.received() if "escalade" in m.message["Subject"] or "escalated" in m.message["Subject"]
    ]
    assert sorted(m.recipients[0] for m in escalated) == ["m.lyon@example.org", "r.sud@example.org"]
    assert [p.path for p in hooks.received()].count("/teams") == 1  # escalations only
    for post in hooks.received("/json"):
        headers = {k.lower(): v for k, v in post.headers.items()}
        assert verify(SECRET, headers["x-miroir-timestamp"], post.body, headers["x-miroir-signature"], time.time())
        assert post.json()["callback"]["url"] == f"{LINK}/callbacks/{callback}"
    assert {p.json()["event"] for p in hooks.received("/json")} == {"callback.created", "callback.escalated"}
    (teams,) = hooks.received("/teams")
    assert teams.json()["attachments"][0]["content"]["type"] == "AdaptiveCard"
    assert all(p.json()["blocks"] for p in hooks.received("/slack"))
    everything = (
        b"".join(p.body for p in hooks.received()) + "".join(m.message.as_string() for m in smtp.received()).encode()
    )
    assert not [s for s in CUSTOMER if s.encode() in everything]


def _secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)


async def test_an_endpoint_answering_500_gets_the_notification_once_after_retries_a_404_is_given_up(
    rig: Rig, hooks: WebhookReceiver
) -> None:
    channels = (
        ChatChannel("crm", "json", _secret(hooks.url("/json")), sites=frozenset({SITE}), secret=_secret(SECRET)),
        ChatChannel("gone", "slack", _secret(hooks.url("/gone")), sites=frozenset({SITE})),
    )
    hooks.fail_for(1.5)
    hooks.answer("/gone", 404)
    (callback,) = await rig.admit(1)
    notifier = rig.notifier(config(None, channels))
    deadline = time.monotonic() + 15
    while not hooks.received("/json") and time.monotonic() < deadline:
        await notifier.round(100)
    await rounds(notifier, 5)
    (ok,) = hooks.received("/json")
    assert ok.json()["callback"]["id"] == callback
    failures = [p for p in hooks.received("/json", status=None) if p.status == 500]
    assert len(failures) >= 2  # retried with backoff while down
    assert len({p.headers["X-Miroir-Delivery"] for p in hooks.received("/json", status=None)}) == 1
    (gone,) = [p for p in hooks.received("/gone", status=None) if p.status == 404]  # given up at once
    delivery = await rig.store.get(gone.headers["X-Miroir-Delivery"])
    assert delivery is not None and delivery.state == "failed" and delivery.reason == "webhook answered 404"


async def test_quiet_hours_hold_an_email_until_they_end(rig: Rig, smtp: SmtpReceiver) -> None:
    now = datetime.now(PARIS)
    quiet = QuietHours((now - timedelta(minutes=1)).time(), (now + timedelta(hours=1)).time())
    if quiet.end < quiet.start:
        pytest.skip("the hour around midnight: the quiet window would wrap")
    await rig.user(manager("m.night"), Preferences(quiet=quiet))
    await rig.admit(1)
    notifier = rig.notifier(config(smtp))
    await rounds(notifier)
    time.sleep(0.3)
    assert smtp.received() == [] and await rig.store.pending() == 1
    await notifier.deliver_due(time.time() + 3600 + 60)  # the end of the quiet hours
    assert wait_until(lambda: len(smtp.received()) == 1, timeout=10)


async def test_a_digest_gathers_a_users_admissions_into_one_email(rig: Rig, smtp: SmtpReceiver) -> None:
    await rig.user(manager("m.digest"), Preferences(digest="hourly"))
    await rig.user(manager("m.now"))
    callbacks = await rig.admit(4)
    notifier = rig.notifier(config(smtp))
    await rounds(notifier)
    assert wait_until(lambda: len(smtp.received()) == 4, timeout=10)  # m.now's, one each
    await rig.queue.resolve(callbacks[3], "reached", "done before the digest", "m.now", time.time())
    await notifier.deliver_due(time.time() + 3600 + 60)
    assert wait_until(lambda: len(smtp.received()) == 5, timeout=10)
    (digest,) = [m for m in smtp.received() if m.recipients == ("m.digest@example.org",)]
    assert "3 nouveaux rappels clients" in digest.message["Subject"]  # not the one resolved meanwhile
    assert all(f"{LINK}/callbacks/{c}" in digest.text for c in callbacks[:3])
    assert callbacks[3] not in digest.text and await rig.store.pending() == 0


async def test_a_notifier_that_died_before_acknowledging_its_entries_expands_them_once(
    rig: Rig, smtp: SmtpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await rig.user(manager("m.lyon"))
    await rig.admit(2)
    dying = rig.notifier(config(smtp), consumer="dies")

    async def crash(ids: list[str]) -> None:
        raise ConnectionError("killed between expanding and acknowledging")

    monkeypatch.setattr(rig.queue, "outbox_done", crash)
    with pytest.raises(ConnectionError):
        await dying.round(50)
    monkeypatch.undo()
    # Its deliveries exist; the entries are still its own: another takes them over once idle.
    heir = rig.notifier(config(smtp, orphan_idle=0.2), consumer="heir")
    time.sleep(0.3)
    await rounds(heir)
    assert wait_until(lambda: len(smtp.received()) == 2, timeout=10)
    await rounds(rig.notifier(config(smtp), consumer="dies"))  # the dead one restarted
    time.sleep(0.5)
    assert len(smtp.received()) == 2 and await rig.queue.outbox("dies", 100, 10) == []


async def test_a_taken_delivery_is_nobody_elses_until_its_lease_ends(rig: Rig, smtp: SmtpReceiver) -> None:
    await rig.user(manager("m.lyon"))
    await rig.admit(1)
    first, second = rig.notifier(config(smtp)), rig.notifier(config(smtp), consumer="n2")
    await first.expand(await rig.queue.outbox("n1", 100, 50), time.time())
    (taken,) = await rig.store.take(time.time(), first.config.lease, 10)  # ...and the notifier dies
    assert await second.deliver_due(time.time()) == {}
    await second.deliver_due(time.time() + first.config.lease + 1)
    assert wait_until(lambda: len(smtp.received()) == 1, timeout=10)
    assert smtp.received()[0].message["X-Miroir-Delivery"] == taken.id


async def test_a_send_that_could_not_end_within_its_lease_is_not_started_but_given_back(
    rig: Rig, smtp: SmtpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await rig.user(manager("m.lyon"))
    await rig.admit(1)
    notifier = rig.notifier(config(smtp))
    await notifier.expand(await rig.queue.outbox("n1", 100, 50), time.time())
    monkeypatch.setattr(type(notifier.config), "mark_margin", notifier.config.lease)  # every send would end too late
    assert await notifier.deliver_due(time.time()) == {("deliveries", "deferred"): 1}
    time.sleep(0.3)
    assert smtp.received() == [] and await rig.store.pending() == 1
    monkeypatch.undo()
    await notifier.deliver_due(time.time())  # given back: due again now, not after the lease
    assert wait_until(lambda: len(smtp.received()) == 1, timeout=10)


async def test_a_delivery_given_back_late_stays_with_whoever_took_it_since(rig: Rig) -> None:
    await rig.user(manager("m.lyon"))
    await rig.admit(1)
    notifier = rig.notifier(config(SmtpReceiver()))
    await notifier.expand(await rig.queue.outbox("n1", 100, 50), time.time())
    now = time.time()
    (mine,) = await rig.store.take(now, 60, 10)
    (theirs,) = await rig.store.take(now + 61, 60, 10)  # my lease ran out; another notifier took it
    assert await rig.store.release([mine], now + 60, now) == 0
    assert await rig.store.take(now + 62, 60, 10) == []  # still theirs
    assert await rig.store.release([theirs], now + 61 + 60, now) == 1


async def test_one_account_with_a_hand_edited_preference_does_not_silence_the_others(
    rig: Rig, smtp: SmtpReceiver
) -> None:
    from sinks.accounts import user_key

    await rig.user(manager("m.lyon"))
    await rig.user(manager("m.edited"))
    await rig.accounts.redis.hset(user_key("m.edited"), "notify_digest", "weekly")  # not a choice Miroir offers
    await rig.admit(1)
    await rounds(rig.notifier(config(smtp)))
    assert wait_until(lambda: len(smtp.received()) == 2, timeout=10)  # m.edited at the defaults: at once


async def test_starttls_and_auth_against_a_server_that_requires_them(rig: Rig, tmp_path: Path) -> None:
    import ssl

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    await rig.user(manager("m.lyon"))
    await rig.admit(1)
    with SmtpReceiver(users={"miroir": "relay password"}, tls_context=context) as server:
        smtp = SmtpConfig(
            server.host,
            server.port,
            "starttls",
            "miroir@example.org",
            "miroir",
            _secret("relay password"),
            5,
            str(cert),
        )
        notifier = rig.notifier(NotifyConfig(LINK, HIERARCHY, smtp, zone=PARIS))
        await rounds(notifier)
        assert wait_until(lambda: len(server.received()) == 1, timeout=10)
        await notifier.close()  # QUIT over TLS while the server is there to answer
