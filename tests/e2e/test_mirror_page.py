"""The live mirror page in real headless Chromium while the demo scenario streams."""

from __future__ import annotations

import threading
from pathlib import Path

from rich.console import Console
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from config.settings import Settings
from tests.e2e.browser import chromium
from tools.demo import DemoOptions, stream_pilot
from tools.workers import pilot_worker

OUTPUT = Path(".run/test-output")


def step_types(browser) -> dict[str, str]:
    # Read in one go: the page redraws its columns on every update.
    pairs = browser.execute_script(
        "return [...document.querySelectorAll('#types .step')].map(s => [s.dataset.step, s.dataset.type])"
    )
    return dict(pairs)


def selected_journey(browser) -> str:
    return str(browser.execute_script("return document.getElementById('journey').value"))


def background(browser, step: str) -> str:
    return str(
        browser.execute_script(
            f"return getComputedStyle(document.querySelector('#types .step[data-step={step}]')).backgroundColor"
        )
    )


def pick_journey(browser, journey: str) -> bool:
    from selenium.webdriver.support.ui import Select

    try:
        Select(browser.find_element(By.ID, "journey")).select_by_value(journey)
        return True
    except StaleElementReferenceException:
        return False


def click_step(browser, step: str) -> bool:
    try:
        browser.find_element(By.CSS_SELECTOR, f'#types .step[data-step="{step}"]').click()
        return True
    except StaleElementReferenceException:
        return False


def test_the_page_shows_steps_changing_type_live_and_their_evidence(stack: Settings) -> None:
    with pilot_worker(stack, Console(quiet=True)) as url, chromium() as browser:
        browser.get(f"{url}/?journey=home_delivery&lang=en")
        wait = WebDriverWait(browser, 60, poll_frequency=0.5)
        wait.until(lambda b: len(step_types(b)) == 7)
        before = step_types(browser)
        assert set(before.values()) == {"insufficient_data"}  # a fresh pilot: nothing to say yet
        marker = browser.execute_script("window.notReloaded = true; return window.notReloaded")

        streaming = threading.Thread(
            target=stream_pilot, daemon=True, args=(stack, DemoOptions(900, 3, 60.0, 0.0, True, None), lambda n: None)
        )
        streaming.start()
        wait.until(lambda b: {"dead_end", "win_win", "pain"} <= set(step_types(b).values()))
        assert browser.execute_script("return window.notReloaded") is marker is True  # updated without reload
        after = step_types(browser)
        assert after["pickup"] == "dead_end" and after["store_visit"] == "win_win"

        wait.until(lambda b: click_step(b, "pickup"))
        evidence = wait.until(
            lambda b: b.execute_script(
                "const e = document.getElementById('evidence');"
                "return !e.hidden && e.querySelector('#evidence-customer .verbatim') ? e.innerText : null"
            )
        )
        assert "Pickup" in evidence and "«" in evidence
        assert "@" not in evidence and "+33" not in evidence  # contact details never reach the page

        browser.find_element(By.ID, "language").click()
        wait.until(lambda b: "l'impasse" in b.execute_script("return document.getElementById('types').innerText"))
        OUTPUT.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(OUTPUT / "mirror-page.png"))
        assert (OUTPUT / "mirror-page.png").stat().st_size > 10_000
        streaming.join(timeout=60)


def test_with_redis_unreachable_the_page_stays_live_and_says_since_when(stack: Settings) -> None:
    from tools.workers import free_port, pilot_workers

    nowhere = f"redis://localhost:{free_port(1)}/0"  # a port nothing listens on
    with pilot_workers(stack, Console(quiet=True), env={"MIROIR_REDIS_URL": nowhere}) as urls, chromium() as browser:
        browser.get(f"{urls[0]}/?journey=home_delivery&lang=en")
        wait = WebDriverWait(browser, 60, poll_frequency=0.5)
        wait.until(lambda b: len(step_types(b)) == 7)  # the mirror renders
        banner = wait.until(
            lambda b: b.execute_script("const q = document.getElementById('queue-down'); return q && q.innerText")
        )
        assert banner.startswith("callback queue unreachable since ")
        connection = browser.find_element(By.ID, "connection").get_attribute("class") or ""
        assert "stale" not in connection  # the mirror is live


def test_without_a_journey_in_the_url_the_page_opens_on_one_with_data(stack: Settings) -> None:
    """The taxonomy's first journey has no data here; the pilot's only journey with data comes later.
    The page renders before the read-out arrives, then moves to the journey with data."""
    import time
    import uuid

    from infra.topics import ensure_topics
    from processors.config import pipeline_config
    from processors.mirror_types import TYPES
    from schemas import INPUT_SCHEMAS, codec_for
    from tools.producer import RecordProducer
    from tools.simulate import simulate
    from tools.workers import pilot_workers

    journeys = list(pipeline_config().taxonomy.journeys)
    only = "click_collect"
    assert journeys[0] != only and only in journeys
    run = uuid.uuid4().hex[:8]  # topics of its own: no other test's records reach this pilot
    topics = {"survey": f"test-page-survey-{run}", "staff": f"test-page-staff-{run}"}
    ensure_topics(stack, list(topics.values()))
    env = {"MIROIR_SURVEY_TOPIC": topics["survey"], "MIROIR_STAFF_TOPIC": topics["staff"]}
    with pilot_workers(stack, Console(quiet=True), env=env) as urls, chromium() as browser:
        browser.get(f"{urls[0]}/?lang=en")
        wait = WebDriverWait(browser, 90, poll_frequency=0.5)
        wait.until(lambda b: b.execute_script("return document.getElementById('connection').innerText") == "live")
        assert selected_journey(browser) == journeys[0]  # no data yet: the first journey
        assert set(step_types(browser).values()) == {"insufficient_data"}
        legend = browser.execute_script("return [...document.querySelectorAll('#legend span')].map(s => s.innerText)")
        assert legend == [t.en for t in TYPES]  # from the worker's table, in its order

        with RecordProducer(stack) as producer:  # the simulated pilot, its click & collect records only
            for event in simulate(11, time.time() - 60, 600, 10.0):
                if event.record["journey_id"] == only:
                    key = str(event.record.get("response_id") or event.record.get("feedback_id"))
                    codec = codec_for(INPUT_SCHEMAS[event.kind])
                    producer.send_record(topics[event.kind], key, event.record, codec)

        wait.until(lambda b: selected_journey(b) == only)
        wait.until(lambda b: {"win_win", "lucky_break", "dead_end"} <= set(step_types(b).values()))
        shown = step_types(browser)
        assert list(shown) == ["online_order", "ready_notice", "pickup", "after_sales"]
        assert shown["online_order"] == "win_win" and shown["pickup"] == "dead_end"
        # Each column is painted in its type's colour, set from the table (#2e9e4f -> rgb(46, 158, 79)).
        win_win = next(t.colour for t in TYPES if t.id == "win_win")
        expected = "rgb({}, {}, {})".format(*(int(win_win[i : i + 2], 16) for i in (1, 3, 5)))
        wait.until(lambda b: background(b, "online_order") == expected)

        OUTPUT.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(OUTPUT / "mirror-page-opens-on-data.png"))

        wait.until(lambda b: pick_journey(b, journeys[0]))  # the user picks a journey
        time.sleep(3)  # a few read-outs later, the page keeps the user's choice
        assert selected_journey(browser) == journeys[0]
