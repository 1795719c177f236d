"""Notifications end to end: a dissatisfied survey response into Kafka, a real worker admits the
callback into Redis, and its notifier e-mails the site's manager (a real SMTP server) and posts a
signed JSON webhook (a real HTTP receiver), once each."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from config.settings import Settings
from processors.access import User
from processors.notify_messages import verify
from sinks.accounts import AccountStore
from tests.e2e.test_callbacks import dissatisfied, private_redis, produce  # noqa: F401  (private_redis: a fixture)
from tools.receivers import SmtpReceiver, WebhookReceiver, wait_until
from tools.workers import pilot_worker

SECRET = "e2e-webhook-secret"
PUBLIC_URL = "https://managers.example.org"


def add_manager(url: str, name: str, site: str) -> None:
    async def go() -> None:
        accounts = AccountStore.from_url(url)
        try:
            await accounts.add_user(
                User(name, f"{name}@example.org", "manager", frozenset({site})), "a long password", time.time()
            )
        finally:
            await accounts.close()

    asyncio.run(go())


def test_a_dissatisfied_response_makes_one_email_and_one_signed_webhook(
    stack: Settings,
    private_redis: tuple[str, Any, Any],  # noqa: F811  (the fixture imported above)
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    url, _, _ = private_redis  # the outbox's group is global: a Redis of its own keeps other tests' workers off it
    site = f"site-{uuid.uuid4().hex[:8]}"
    add_manager(url, "m.e2e", site)
    channels = tmp_path / "channels.yaml"
    crm = f"{{name: crm, kind: json, sites: [{site}], url_env: E2E_HOOK_URL, secret_env: E2E_HOOK_SECRET}}"
    channels.write_text(f"channels:\n  - {crm}\n")
    with SmtpReceiver() as smtp, WebhookReceiver() as hooks:
        for key, value in {
            "MIROIR_REDIS_URL": url,
            "MIROIR_NOTIFY_SMTP_HOST": smtp.host,
            "MIROIR_NOTIFY_SMTP_PORT": str(smtp.port),
            "MIROIR_NOTIFY_SMTP_SECURITY": "none",
            "MIROIR_NOTIFY_CHANNELS_FILE": str(channels),
            "MIROIR_MANAGERS_PUBLIC_URL": PUBLIC_URL,
            "E2E_HOOK_URL": hooks.url("/crm"),
            "E2E_HOOK_SECRET": SECRET,
        }.items():
            monkeypatch.setenv(key, value)
        (response,) = dissatisfied(site, 1)
        callback = f"cb-{response['response_id']}"
        with pilot_worker(stack, Console(quiet=True)):
            produce(stack, [response])
            assert wait_until(lambda: len(smtp.received()) >= 1 and len(hooks.received("/crm")) >= 1, timeout=90)
            time.sleep(3)  # anything sent twice would be here by now
        (mail,) = smtp.received()
        (post,) = hooks.received("/crm")
    assert mail.recipients == ("m.e2e@example.org",)
    assert f"{PUBLIC_URL}/callbacks/{callback}" in mail.text.split()
    assert "+33611111111" not in mail.message.as_string() and b"+33611111111" not in post.body
    headers = {k.lower(): v for k, v in post.headers.items()}
    assert verify(SECRET, headers["x-miroir-timestamp"], post.body, headers["x-miroir-signature"], time.time())
    assert post.json()["callback"]["id"] == callback and post.json()["event"] == "callback.created"
