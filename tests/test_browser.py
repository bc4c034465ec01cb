"""End to end in a real headless Chromium: start `streamlit run app.py`, open the pages, train.

Skipped (with the reason) where Debian's Chromium or the playwright package is missing; CI
installs both. Nothing here asserts on timing; the figures it reads are printed for the record.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)", allow_module_level=True)

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    start = time.monotonic()
    while time.monotonic() - start < 60:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited early:\n{proc.stdout.read()}")
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("streamlit did not become healthy within 60 s")
    print(f"\nserver healthy after {time.monotonic() - start:.2f} s")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _no_exception(page) -> None:
    errors = page.locator("[data-testid=stException]")
    assert errors.count() == 0, errors.first.inner_text()


def _step(page) -> int:
    text = page.locator("[data-testid=stProgress]").first.inner_text()
    match = re.search(r"step ([\d,]+) /", text)
    assert match, text
    return int(match.group(1).replace(",", ""))


def test_home_and_navigation(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    page.get_by_text("The map of the course").wait_for(timeout=60_000)
    _no_exception(page)
    nav = page.locator("[data-testid=stSidebarNav]").inner_text()
    assert "Flow matching" in nav and "Densities" in nav
    page.close()


@pytest.mark.parametrize(
    ("path", "title"), [("flow_matching", "Flow matching"), ("diffusion", "Diffusion and score"), ("gan", "GANs")]
)
def test_a_training_page_trains_live_in_the_browser(server, browser, path: str, title: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(f"{server}/{path}")  # a deep link must go through the app's router too
    train = page.get_by_role("button", name="Train", exact=True)
    train.wait_for(timeout=60_000)
    assert title in page.locator("[data-testid=stSidebarNav]").inner_text()
    page.wait_for_timeout(1000)
    clicked = time.monotonic()
    train.click()
    page.get_by_text("Training…").first.wait_for(timeout=20_000)
    first_frame = time.monotonic() - clicked
    before = _step(page)
    page.wait_for_timeout(3000)
    after = _step(page)
    assert after > before, (before, after)
    readouts = {
        cell.locator(".label").inner_text(): cell.locator(".value").inner_text()
        for cell in page.locator(".readout").all()
    }
    print(f"first live frame {first_frame:.2f} s; steps {before} -> {after} in 3 s; readouts {readouts}")
    assert "steps / s" in readouts and "view refresh / s" in readouts
    _no_exception(page)
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_text("Paused.").first.wait_for(timeout=20_000)
    _no_exception(page)
    page.close()


def test_densities_page_opens(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/densities")
    page.get_by_role("heading", name="Densities").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    _no_exception(page)
    page.close()


def test_langevin_page_runs_chains_and_its_presets(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    page.goto(f"{server}/langevin")
    page.get_by_text("Trapped in one mode").first.wait_for(timeout=60_000)
    page.get_by_text("final mode coverage TV").first.wait_for(timeout=30_000)
    _no_exception(page)
    page.get_by_role("button", name="Show it").first.click()  # the trapped-chain preset
    page.wait_for_timeout(2500)
    _no_exception(page)
    page.get_by_role("button", name="Fix: anneal").click()
    page.wait_for_timeout(2500)
    _no_exception(page)
    assert page.get_by_text("Annealed Langevin").count() > 0
    page.close()
