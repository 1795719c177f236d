"""The managers' inbox on a phone-sized headless Chromium, against the real stack: a manager signs in,
sees new callbacks arrive live (no reload), claims one from its page, sees the customer's phone as a
tel: link, resolves it with a root cause and a note; the CallbackOutcome (root cause included) is read
back from the real Kafka topic and the site's figures on the page change. A manager of another site
gets 403 for that case, page and API; five wrong passwords lock sign-in. Takes the README's
screenshots: into the test's own folder, or with MIROIR_UPDATE_SCREENSHOTS=1 over
docs/screenshots/managers-*.png (so that a test run leaves the checkout as it was)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from config.settings import Settings
from infra.topics import ensure_topics
from schemas import codec_for
from tests.e2e.browser import chromium
from tests.integration.kafka_io import consume_all
from tests.services.test_managers import PASSWORD, account, admit, bearer, sign_in
from tools.managers import spawn_managers
from tools.services import RunningService

PHONE = (390, 844)
README_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NO_SIDEWAYS_SCROLL = "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
def managers_app(stack: Settings, tmp_path: Path) -> Iterator[tuple[RunningService, str, str, str]]:
    run = uuid.uuid4().hex[:8]
    site_a, site_b, outcomes = f"lyon-{run}", f"lille-{run}", f"test-{run}-outcomes"
    sites = tmp_path / "sites.yaml"
    sites.write_text(f"regions:\n  sud-{run}:\n    sites: [{site_a}]\n  nord-{run}:\n    sites: [{site_b}]\n")
    ensure_topics(stack, [outcomes], partitions=1)
    service = spawn_managers(
        tmp_path / "managers.log", MIROIR_MANAGERS_SITES_FILE=str(sites), MIROIR_CALLBACK_OUTCOME_TOPIC=outcomes
    )
    yield service, site_a, site_b, outcomes
    service.stop()


def text(browser: Any, selector: str) -> str:
    """An element's text, read in one go (the page re-renders live: a found element may be replaced)."""
    found = browser.execute_script(
        "const e = document.querySelector(arguments[0]); return e && e.textContent", selector
    )
    return str(found or "")


def steady(action: Callable[[], Any], tries: int = 10) -> Any:
    """`action()`, again if the live page replaced its element between finding and using it."""
    for _ in range(tries - 1):
        try:
            return action()
        except StaleElementReferenceException:
            time.sleep(0.2)
    return action()


def figure(browser: Any, site: str, name: str) -> str:
    return text(browser, f'.figure-card[data-site="{site}"] [data-figure="{name}"]')


def test_a_manager_handles_a_callback_on_a_phone_from_arrival_to_outcome(
    stack: Settings, managers_app: tuple[RunningService, str, str, str], tmp_path: Path
) -> None:
    service, site_a, site_b, outcomes = managers_app
    manager, _ = account(stack, "manager", (site_a,))
    _, other_token = account(stack, "manager", (site_b,))
    other, _ = account(stack, "manager", (site_b,))
    admit(stack, site_a, 2)  # already waiting when the manager signs in

    with chromium() as browser:
        browser.set_window_size(*PHONE)
        wait = WebDriverWait(browser, 30, poll_frequency=0.3)
        browser.get(f"{service.url}/signin")
        browser.find_element(By.NAME, "name").send_keys(manager)
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(lambda b: text(b, "#live") == "● en direct")
        assert browser.execute_script("return document.documentElement.lang") == "fr"
        assert "À traiter" in text(browser, "#tab-todo")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#cases li")) == 2
        assert figure(browser, site_a, "open") == "2" and figure(browser, site_a, "within_sla_pct") == "—"

        browser.execute_script("window.notReloaded = true")
        [new] = admit(stack, site_a, 1)
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, f'#cases li[data-callback="{new}"]'))
        assert browser.execute_script("return window.notReloaded === true")  # live, not a reload
        wait.until(lambda b: figure(b, site_a, "open") == "3")
        assert browser.execute_script(NO_SIDEWAYS_SCROLL)
        shots = README_SCREENSHOTS if os.environ.get("MIROIR_UPDATE_SCREENSHOTS") == "1" else tmp_path
        shots.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(shots / "managers-inbox.png"))

        steady(lambda: browser.find_element(By.CSS_SELECTOR, f'#cases li[data-callback="{new}"] a').click())
        wait.until(lambda b: b.find_elements(By.ID, "claim"))
        assert "coordonnées" in text(browser, "#contact")  # hidden until claimed
        assert not browser.find_elements(By.ID, "call")
        browser.execute_script("document.getElementById('claim').click()")  # the page may re-render meanwhile
        call = wait.until(lambda b: b.find_elements(By.ID, "call"))[0]
        assert str(steady(lambda: call.get_attribute("href"))).startswith("tel:+336")
        write = steady(lambda: browser.find_element(By.ID, "write").get_attribute("href"))
        assert write == "mailto:jeanne@example.org"
        wait.until(lambda b: "à rappeler dans" in text(b, "#countdown"))
        assert browser.execute_script(NO_SIDEWAYS_SCROLL)
        browser.save_screenshot(str(shots / "managers-case.png"))

        wait.until(lambda b: b.find_elements(By.ID, "note"))
        steady(lambda: Select(browser.find_element(By.ID, "outcome")).select_by_value("reached"))
        steady(lambda: Select(browser.find_element(By.ID, "root_cause")).select_by_value("late_delivery"))
        steady(lambda: browser.find_element(By.ID, "note").send_keys("Rappelée, nouveau créneau de livraison demain."))
        steady(lambda: browser.find_element(By.ID, "resolve").click())
        wait.until(lambda b: b.find_elements(By.ID, "reopen"))
        facts = text(browser, "#facts")
        assert "Livraison en retard" in facts and "Joint" in facts
        audit = text(browser, "#audit")
        assert manager in audit and "clôturé" in audit and "127.0.0.1" in audit

        browser.get(f"{service.url}/")
        wait.until(lambda b: figure(b, site_a, "within_sla_pct") == "100 %")
        assert figure(browser, site_a, "open") == "2"

    found = [codec_for("CallbackOutcome").decode(m.value) for m in consume_all(stack, outcomes)]
    [outcome] = [o for o in found if o["callback_id"] == new]
    assert (outcome["manager"], outcome["outcome"], outcome["root_cause"]) == (manager, "reached", "late_delivery")
    assert outcome["note"] == "Rappelée, nouveau créneau de livraison demain." and outcome["within_sla"]

    # A manager of another site: 403 for that case, page and API.
    assert httpx.get(f"{service.url}/v1/callbacks/{new}", headers=bearer(other_token)).status_code == 403
    with httpx.Client(base_url=service.url, timeout=30) as elsewhere:
        assert sign_in(elsewhere, other).status_code == 303
        assert elsewhere.get(f"/callbacks/{new}").status_code == 403
        assert elsewhere.get(f"/v1/callbacks/{new}").status_code == 403
    # Five wrong passwords lock sign-in, the right one included.
    with httpx.Client(base_url=service.url, timeout=30) as guesser:
        assert [sign_in(guesser, other, "not the password").status_code for _ in range(5)] == [401] * 5
        assert sign_in(guesser, other).status_code == 429
