"""The staff questionnaire on a phone-sized headless Chromium: a site's link opened, one story told
and its step picked, the thank-you seen, and the story counted by a fresh pilot worker's mirror, on
the step its text names and on the step picked."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from config.settings import Settings
from infra.topics import ensure_topics
from tests.e2e.browser import chromium
from tools.intake import spawn_intake, with_tokens
from tools.readout import fetch
from tools.workers import pilot_workers

OUTPUT = Path(".run/test-output")
PHONE = (390, 844)
SMALL_PHONE = (360, 640)
NO_SIDEWAYS_SCROLL = "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
STORY = "Le client attendait sa livraison depuis trois semaines et personne ne pouvait lui dire quand elle viendrait."


def shown(browser: Any, element_id: str) -> bool:
    return bool(browser.execute_script(f"return !document.getElementById('{element_id}').hidden"))


def staff_mentions(url: str, journey: str, step: str) -> int:
    states = fetch(url, "/mirror/")["states"]
    return sum(
        s["staff"]["n"] for s in states if (s["journey_id"], s["step_id"], s["window"]) == (journey, step, "live")
    )


def test_a_story_told_on_a_phone_is_thanked_and_counted_on_the_mirror(stack: Settings, tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    env = {"MIROIR_SURVEY_TOPIC": f"test-staffpage-survey-{run}", "MIROIR_STAFF_TOPIC": f"test-staffpage-staff-{run}"}
    ensure_topics(stack, list(env.values()), partitions=2)
    site, name = f"test-e2e-{run}", f"test-e2e-{run}.home_delivery"
    token = with_tokens(stack, lambda store: store.create_staff_link(site, "home_delivery", time.time()))
    intake = spawn_intake(tmp_path / "intake.log", **env)
    try:
        with pilot_workers(stack, Console(quiet=True), env=env) as urls, chromium() as browser:
            before = fetch(urls[0], "/counters/")
            browser.set_window_size(*PHONE)
            browser.get(f"{intake.url}/staff/?t={token}")
            wait = WebDriverWait(browser, 30, poll_frequency=0.3)
            wait.until(lambda b: shown(b, "stories") and not shown(b, "loading"))
            assert browser.execute_script("return document.documentElement.clientWidth") <= PHONE[0]
            assert browser.execute_script("return document.documentElement.lang") == "fr"
            frustrating = browser.find_element(By.CSS_SELECTOR, "label[for=most_frustrating]").text
            assert "l’expérience la plus frustrante" in frustrating and "6 derniers mois" in frustrating
            assert "Livraison à domicile" in browser.find_element(By.ID, "journey-fixed").text
            assert browser.execute_script(NO_SIDEWAYS_SCROLL)
            send = browser.find_element(By.ID, "send")
            assert send.size["height"] >= 48 and send.size["width"] >= 300  # a large tap target
            OUTPUT.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(OUTPUT / "staff-questionnaire-fr.png"))
            browser.set_window_size(*SMALL_PHONE)
            assert browser.execute_script(NO_SIDEWAYS_SCROLL)
            browser.save_screenshot(str(OUTPUT / "staff-questionnaire-360-fr.png"))
            browser.set_window_size(*PHONE)

            browser.find_element(By.ID, "most_frustrating").send_keys(STORY)
            # A step the story does not name: it counts because it was picked.
            Select(browser.find_element(By.ID, "most_frustrating-step")).select_by_value("delivery_booking")
            browser.save_screenshot(str(OUTPUT / "staff-questionnaire-filled-fr.png"))
            send.click()
            wait.until(lambda b: shown(b, "thanks"))
            assert browser.find_element(By.CSS_SELECTOR, "#thanks h1").text.startswith("Merci")
            browser.save_screenshot(str(OUTPUT / "staff-questionnaire-thanks-fr.png"))

            deadline = time.monotonic() + 90
            counters = before
            while time.monotonic() < deadline and counters["processed"] < before["processed"] + 1:
                time.sleep(1)
                counters = fetch(urls[0], "/counters/")
            assert counters["in"] - before["in"] == counters["processed"] - before["processed"] == 1
            assert counters["dead_lettered"] == before["dead_lettered"]
            wait_mirror = WebDriverWait(browser, 60, poll_frequency=1)
            wait_mirror.until(lambda b: staff_mentions(urls[0], "home_delivery", "delivery") == 1)
            wait_mirror.until(lambda b: staff_mentions(urls[0], "home_delivery", "delivery_booking") == 1)

            browser.find_element(By.ID, "language").click()  # the English page, for the record
            browser.find_element(By.ID, "again").click()
            wait.until(lambda b: shown(b, "questionnaire"))
            assert "most positive experience" in browser.find_element(By.CSS_SELECTOR, "label[for=most_positive]").text
            assert browser.find_element(By.ID, "most_frustrating").get_attribute("value") == ""
    finally:
        intake.stop()
        with_tokens(stack, lambda store: store.forget_staff_link(name))


def test_a_bad_link_opens_a_clear_page_not_a_trace(stack: Settings, tmp_path: Path) -> None:
    intake = spawn_intake(tmp_path / "intake.log")
    try:
        with chromium() as browser:
            browser.set_window_size(*PHONE)
            browser.get(f"{intake.url}/staff/?t=mis_never-issued")
            assert browser.find_element(By.TAG_NAME, "h1").text == "Lien introuvable"
            browser.find_element(By.CSS_SELECTOR, "a.switch").click()
            WebDriverWait(browser, 10).until(lambda b: b.find_element(By.TAG_NAME, "h1").text == "Link not found")
            assert "Traceback" not in browser.page_source
    finally:
        intake.stop()
