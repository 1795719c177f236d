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
from tools.demo import DemoOptions, pilot_worker, stream_pilot

OUTPUT = Path(".run/test-output")


def step_types(browser) -> dict[str, str]:  # type: ignore[no-untyped-def]
    # Read in one go: the page redraws its columns on every update.
    pairs = browser.execute_script(
        "return [...document.querySelectorAll('#types .step')].map(s => [s.dataset.step, s.dataset.type])"
    )
    return dict(pairs)


def click_step(browser, step: str) -> bool:  # type: ignore[no-untyped-def]
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
    from tools.demo import free_port, pilot_workers

    nowhere = f"redis://localhost:{free_port(1)}/0"  # a port nothing listens on
    with pilot_workers(stack, Console(quiet=True), env={"MIROIR_REDIS_URL": nowhere}) as urls, chromium() as browser:
        browser.get(f"{urls[0]}/?journey=home_delivery&lang=en")
        wait = WebDriverWait(browser, 60, poll_frequency=0.5)
        wait.until(lambda b: len(step_types(b)) == 7)  # the mirror renders
        banner = wait.until(
            lambda b: b.execute_script("const q = document.getElementById('queue-down'); return q && q.innerText")
        )
        assert banner.startswith("callback queue unreachable since ")
        assert "stale" not in browser.find_element(By.ID, "connection").get_attribute("class")  # the mirror is live
