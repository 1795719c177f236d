"""Each person sets their own notification choice: the form at /notifications (CSRF-protected) and
GET|PUT /v1/me/notifications; what they save is what the notifier reads (sinks/accounts.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import time

import httpx
import pytest

from config.settings import Settings
from processors.notifications import Preferences, QuietHours
from sinks.accounts import AccountStore
from sinks.credentials import Credentials
from tests.services.test_managers import account, bearer, sign_in
from tools.managers import spawn_managers, with_accounts
from tools.services import RunningService

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    running = spawn_managers(tmp_path_factory.mktemp("managers") / "managers.log")
    yield running
    running.stop()


def stored(stack: Settings, name: str) -> Preferences:
    async def read(accounts: AccountStore, _: Credentials) -> Preferences:
        return await accounts.preferences(name)

    return with_accounts(stack, read)


def test_a_manager_sets_quiet_hours_and_a_digest_in_the_form_and_not_without_its_csrf_token(
    stack: Settings, app: RunningService
) -> None:
    name, _ = account(stack, "manager", ("lyon-part-dieu",))
    with httpx.Client(base_url=app.url, timeout=30) as browser:
        assert sign_in(browser, name).status_code == 303
        assert 'href="/notifications"' in browser.get("/").text  # the inbox links to it
        form = browser.get("/notifications")
        assert form.status_code == 200 and "Mes notifications" in form.text and "checked" in form.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf
        choice = {"email": "on", "quiet": "20:00-08:00", "digest": "daily", "language": "en", "lang": "fr"}
        assert browser.post("/notifications", data=choice).status_code == 403  # no token: a forged form
        assert stored(stack, name) == Preferences()
        saved = browser.post("/notifications", data={**choice, "csrf_token": csrf.group(1)})
        assert saved.status_code == 200 and "Enregistré" in saved.text and 'value="20:00-08:00"' in saved.text
        wrong = browser.post("/notifications", data={**choice, "quiet": "25:00-08", "csrf_token": csrf.group(1)})
        assert wrong.status_code == 422 and "HH:MM-HH:MM" in wrong.text
    assert stored(stack, name) == Preferences(True, QuietHours(time(20), time(8)), "daily", "en")


def test_a_script_reads_and_changes_its_own_choice_with_a_token(stack: Settings, app: RunningService) -> None:
    name, token = account(stack, "manager", ("lille-centre",))
    with httpx.Client(base_url=app.url, headers=bearer(token), timeout=30) as api:
        assert api.get("/v1/me/notifications").json() == {
            "email": True,
            "quiet": None,
            "digest": "off",
            "language": "fr",
        }
        changed = api.put("/v1/me/notifications", json={"email": False, "digest": "hourly"})
        assert changed.status_code == 200 and changed.json()["email"] is False
        refused = api.put("/v1/me/notifications", json={"quiet": "tonight"})
        assert refused.status_code == 422 and "HH:MM" in refused.json()["error"]["message"]
        assert api.put("/v1/me/notifications", json={"digest": "weekly"}).status_code == 422
    assert stored(stack, name) == Preferences(email=False, digest="hourly")
    assert httpx.get(f"{app.url}/v1/me/notifications", timeout=30).status_code == 401
