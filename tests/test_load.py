"""Load test: many students on one machine. Not part of the default run (marker `load`):

    python -m pytest -m load -s tests/test_load.py          # LOAD_SESSIONS=10, LOAD_SOAK_S=600 by default

One `streamlit run app.py`, LOAD_SESSIONS real browser sessions (one Chromium, a separate context,
i.e. a separate Streamlit session, per student) spread over the training pages; each presses Train,
then for LOAD_SOAK_S seconds every session's readouts (view refreshes / s, steps / s, step), page
errors and the server's memory are sampled. Prints one table; asserts zero errors, that every
session keeps refreshing at least once a second and training progresses (its own or, while it
waits its turn, the others'), and that the server's memory is flat over the soak.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from serve import streamlit_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SESSIONS = int(os.environ.get("LOAD_SESSIONS", "10"))
SOAK_S = float(os.environ.get("LOAD_SOAK_S", "600"))
SAMPLE_S = 15.0
PAGES = ["flow_matching", "gan", "diffusion", "vae", "normalizing_flows"]

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytestmark = pytest.mark.load


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _readouts(page) -> dict[str, str]:
    """The live readouts (empty if the view is between two redraws)."""
    try:
        cells = page.locator(".readout").all()
        return {
            c.locator(".label").inner_text(timeout=5000): c.locator(".value").inner_text(timeout=5000) for c in cells
        }
    except playwright_api.TimeoutError:
        return {}


def _step(page) -> int:
    """The step counter of the progress line (-1 if it cannot be read within 10 s)."""
    try:
        text = page.locator("[data-testid=stProgress]").first.inner_text(timeout=10_000)
    except playwright_api.TimeoutError:
        return -1
    match = re.search(r"step ([\d,]+) /", text)
    return int(match.group(1).replace(",", "")) if match else -1


def _number(text: str) -> float:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return float("nan")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Chromium not found at {CHROMIUM}")
def test_many_sessions_on_one_server() -> None:
    available = [p for p in PAGES if (Path(__file__).resolve().parents[1] / "pages" / f"{p}.py").exists()]
    with streamlit_server() as (url, proc), playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pages, errors = [], [[] for _ in range(SESSIONS)]
        for i in range(SESSIONS):
            page = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
            page.on("pageerror", lambda e, i=i: errors[i].append(str(e)))
            # a long run, so that nobody finishes during the soak
            page.goto(f"{url}/{available[i % len(available)]}?steps=1000000")
            page.get_by_role("button", name="Train", exact=True).wait_for(timeout=120_000)
            page.get_by_role("button", name="Train", exact=True).click()
            pages.append(page)
        start, samples = time.monotonic(), []
        time.sleep(SAMPLE_S)
        first_steps = [_step(page) for page in pages]
        while time.monotonic() - start < SOAK_S:
            time.sleep(SAMPLE_S)
            row = {"t": time.monotonic() - start, "rss_mb": _rss_mb(proc.pid), "sessions": []}
            for i, page in enumerate(pages):
                values = _readouts(page)
                row["sessions"].append(
                    {
                        "refresh": _number(values.get("view refresh / s", "nan")),
                        "steps_per_s": _number(values.get("steps / s", "nan")),
                        "step": _step(page),
                        "errors": len(errors[i]) + page.locator("[data-testid=stException]").count(),
                        "waiting": page.get_by_text("Waiting for the machine").count() > 0,
                    }
                )
            samples.append(row)
            print(
                f"t={row['t']:5.0f} s  rss={row['rss_mb']:6.0f} MB  refresh/s "
                + " ".join(f"{s['refresh']:.1f}" for s in row["sessions"])
                + "  steps/s "
                + " ".join(f"{s['steps_per_s']:.0f}" for s in row["sessions"])
                + f"  waiting {sum(s['waiting'] for s in row['sessions'])}",
                flush=True,
            )
        last_steps = [_step(page) for page in pages]
        browser.close()
    refresh = [min(s["sessions"][i]["refresh"] for s in samples[1:] or samples) for i in range(SESSIONS)]
    mean_refresh = [sum(s["sessions"][i]["refresh"] for s in samples) / len(samples) for i in range(SESSIONS)]
    rss = [s["rss_mb"] for s in samples]
    print(f"\n{SESSIONS} sessions, {SOAK_S:.0f} s, pages {available}")
    print("session  page                 mean refresh/s  min refresh/s  steps trained  errors")
    for i in range(SESSIONS):
        print(
            f"{i:7d}  {available[i % len(available)]:<20} {mean_refresh[i]:14.2f} {refresh[i]:14.2f} "
            f"{last_steps[i] - first_steps[i]:14,d} {samples[-1]['sessions'][i]['errors']:7d}"
        )
    print(f"server memory: {rss[0]:.0f} MB after the first sample, {max(rss):.0f} MB peak, {rss[-1]:.0f} MB at the end")
    assert all(s["sessions"][i]["errors"] == 0 for s in samples for i in range(SESSIONS)), errors
    assert all(last > first for first, last in zip(first_steps, last_steps, strict=True)), (first_steps, last_steps)
    assert min(mean_refresh) >= 1.0, mean_refresh
    half = len(rss) // 2
    if half >= 2:
        assert max(rss[half:]) <= 1.2 * max(rss[:half]) + 50, rss
