"""Load test: many students on one server. Not part of the default run (marker `load`):

    python -m pytest -m load -s tests/test_load.py        # LOAD_SESSIONS=10, LOAD_SOAK_S=600 by default

One `streamlit run app.py` and LOAD_SESSIONS sessions spread over the training pages; each presses
Train, then for LOAD_SOAK_S seconds every session's readouts (view refreshes / s, steps / s, step),
errors and the server's memory are sampled. Prints one table; asserts zero errors (on the pages and
in the server's log), that every session refreshes at least once a second on average and trains
(its own turns or, while it waits, the others'), and that the server's memory is flat.

It runs twice, with two kinds of student:
- `protocol`: `protocol_client.ProtocolClient`, Streamlit's websocket protocol without a browser.
  In a classroom every student's browser runs on their own laptop; these clients cost the server
  what a browser costs it and the machine nothing else, so the figures are the server's.
- `browser`: a real Chromium page per student (its own context, so its own Streamlit session), on
  this same machine. With two cores, ten renderers drawing Plotly four times a second take about
  two-thirds of the CPU away from the server, so this run checks correctness under load (no
  errors, training goes on, memory flat) and its refresh rates are printed, not asserted.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from protocol_client import ProtocolClient

from explorer.bench.server import server_log, streamlit_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SESSIONS = int(os.environ.get("LOAD_SESSIONS", "10"))
SOAK_S = float(os.environ.get("LOAD_SOAK_S", "600"))
SAMPLE_S = 15.0
PAGES = ["flow_matching", "gan", "diffusion", "vae", "normalizing_flows"]
QUERY = "steps=1000000"  # a long run, so that nobody finishes during the soak
SERVED_AS_IN_CLASS = {**os.environ, "EXPLORER_CHECK_FIGURES": "0"}  # no test-only figure validation

pytestmark = pytest.mark.load


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_s(pid: int) -> tuple[float, float]:
    """(CPU seconds the process has used, CPU seconds the whole machine has been busy)."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    machine = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = machine[3] + machine[4]  # idle + iowait
    return (int(fields[11]) + int(fields[12])) / tick, (sum(machine[:8]) - idle) / tick


def _number(text: str) -> float:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return float("nan")


def _step(progress: str) -> int:
    match = re.search(r"step ([\d,]+) /", progress)
    return int(match.group(1).replace(",", "")) if match else -1


class ProtocolStudent:
    """A student whose browser runs elsewhere: the protocol client."""

    def __init__(self, url: str, page: str) -> None:
        self.client = ProtocolClient(url, page, QUERY)
        self.client.click("Train")

    def sample(self) -> dict:
        c = self.client
        return {
            "readouts": dict(c.readouts),
            "step": _step(c.progress),
            "errors": len(c.exceptions),
            "waiting": c.waiting,
        }

    def close(self) -> None:
        self.client.close()


class BrowserStudent:
    """A student whose Chromium page runs on this machine."""

    def __init__(self, browser, url: str, page: str) -> None:
        self.errors: list[str] = []
        self.page = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{url}/{page}?{QUERY}")
        train = self.page.get_by_role("button", name="Train", exact=True)
        train.wait_for(timeout=120_000)
        train.click()

    def sample(self) -> dict:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        page, readouts, progress = self.page, {}, ""
        try:
            cells = page.locator(".readout").all()
            readouts = {
                c.locator(".label").inner_text(timeout=5000): c.locator(".value").inner_text(timeout=5000)
                for c in cells
            }
            progress = page.locator(".explorer-status").first.inner_text(timeout=10_000)
        except PlaywrightTimeout:
            pass  # between two redraws: the sample shows NaN / -1
        return {
            "readouts": readouts,
            "step": _step(progress),
            "errors": len(self.errors) + page.locator("[data-testid=stException]").count(),
            "waiting": page.get_by_text("Waiting for the machine").count() > 0,
        }

    def close(self) -> None:
        self.page.context.close()


def _soak(students: list, proc) -> dict:
    """Sample every SAMPLE_S seconds for SOAK_S seconds; print a line per sample and the table."""
    start, samples = time.monotonic(), []
    time.sleep(SAMPLE_S)
    first_steps = [s.sample()["step"] for s in students]
    cpu_before, t_before = _cpu_s(proc.pid), time.monotonic()
    while time.monotonic() - start < SOAK_S:
        time.sleep(SAMPLE_S)
        cpu_now, t_now = _cpu_s(proc.pid), time.monotonic()
        row = {"t": t_now - start, "rss_mb": _rss_mb(proc.pid), "sessions": []}
        # the server's share of the CPU, and what everything else on the machine took (clients, other jobs)
        row["server_cpu"] = (cpu_now[0] - cpu_before[0]) / (t_now - t_before)
        row["other_cpu"] = (cpu_now[1] - cpu_before[1]) / (t_now - t_before) - row["server_cpu"]
        cpu_before, t_before = cpu_now, t_now
        for student in students:
            values = student.sample()
            row["sessions"].append(
                {
                    "refresh": _number(values["readouts"].get("view refresh / s", "nan")),
                    "steps_per_s": _number(values["readouts"].get("steps / s", "nan")),
                    "step": values["step"],
                    "errors": values["errors"],
                    "waiting": values["waiting"],
                }
            )
        samples.append(row)
        print(
            f"t={row['t']:5.0f} s  rss={row['rss_mb']:6.0f} MB  cpu server {100 * row['server_cpu']:3.0f}% "
            f"other {100 * row['other_cpu']:3.0f}%  refresh/s "
            + " ".join(f"{s['refresh']:.1f}" for s in row["sessions"])
            + "  steps/s "
            + " ".join(f"{s['steps_per_s']:.0f}" for s in row["sessions"])
            + f"  waiting {sum(s['waiting'] for s in row['sessions'])}",
            flush=True,
        )
    last_steps = [s.sample()["step"] for s in students]
    n = len(students)
    mean_refresh = [sum(s["sessions"][i]["refresh"] for s in samples) / len(samples) for i in range(n)]
    min_refresh = [min(s["sessions"][i]["refresh"] for s in samples) for i in range(n)]
    rss = [s["rss_mb"] for s in samples]
    print(f"\n{n} sessions, {SOAK_S:.0f} s, pages {PAGES}")
    print("session  page                 mean refresh/s  min refresh/s  steps trained  errors")
    for i in range(n):
        print(
            f"{i:7d}  {PAGES[i % len(PAGES)]:<20} {mean_refresh[i]:14.2f} {min_refresh[i]:14.2f} "
            f"{last_steps[i] - first_steps[i]:14,d} {samples[-1]['sessions'][i]['errors']:7d}"
        )
    print(f"server memory: {rss[0]:.0f} MB after the first sample, {max(rss):.0f} MB peak, {rss[-1]:.0f} MB at the end")
    return {"samples": samples, "first": first_steps, "last": last_steps, "mean_refresh": mean_refresh, "rss": rss}


def _check(result: dict, log: str) -> None:
    """`log`: what the server printed during the soak (read before the clients disconnect)."""
    samples, rss = result["samples"], result["rss"]
    assert all(s["errors"] == 0 for row in samples for s in row["sessions"])
    assert "Traceback" not in log, log[-4000:]
    assert all(last > first >= 0 for first, last in zip(result["first"], result["last"], strict=True)), result
    half = len(rss) // 2
    if half >= 2:
        assert max(rss[half:]) <= 1.2 * max(rss[:half]) + 50, rss


def test_many_protocol_sessions_on_one_server() -> None:
    with streamlit_server(SERVED_AS_IN_CLASS) as (url, proc):
        students = [ProtocolStudent(url, PAGES[i % len(PAGES)]) for i in range(SESSIONS)]
        result = _soak(students, proc)
        log = server_log(proc, chars=1_000_000)
        for student in students:
            student.close()
        _check(result, log)
    assert min(result["mean_refresh"]) >= 1.0, result["mean_refresh"]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Chromium not found at {CHROMIUM}")
def test_many_browser_sessions_on_one_server() -> None:
    playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with streamlit_server(SERVED_AS_IN_CLASS) as (url, proc), playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        students = [BrowserStudent(browser, url, PAGES[i % len(PAGES)]) for i in range(SESSIONS)]
        result = _soak(students, proc)
        log = server_log(proc, chars=1_000_000)
        browser.close()
        _check(result, log)
