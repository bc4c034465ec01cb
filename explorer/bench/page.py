"""The live page against the engine: Train to Finished of every training page at its defaults, in headless Chromium.

`train_to_finished(root, runs)` starts `streamlit run app.py` in `root` (this checkout, or a `git worktree` of an
earlier commit for a before/after table), opens each family's page in Debian's Chromium (playwright; $CHROMIUM or
/usr/bin/chromium), presses Train and times the click to the first frame painted with the status line's "Finished."
(by the page's own clock), `runs` times a page, each in a fresh tab. The same steps trained by `python -m
explorer.bench` without a page are the engine's time; the ratio of the two is what the page costs (its live
redraws, quality evaluations and the browser beside it).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from explorer.bench.server import ROOT, streamlit_server
from explorer.methods import FAMILIES

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SETTLE_S = 2.5  # after the page has drawn, before Train: the opening's last charts and the warm-up are done


def page_path(family: str) -> str:
    """The URL path of a family's page (its page script's name)."""
    return Path(FAMILIES[family].page).stem


def available() -> str:
    """'' when the page benchmark can run here, else why not."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (requirements-dev.txt)"
    return "" if Path(CHROMIUM).exists() else f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)"


# In the page: the time of the click on the button, and of the first frame painted with the text in the page. The
# frame is the one after the mutation (a requestAnimationFrame callback runs just before the frame is painted).
# Playwright's own wait for a text polls the page between its tasks, so on a busy page it sees the text up to half
# a second after it was painted; the page's own clock says when a user saw it.
WATCH = """(button, text) => {
  window.__bench = {clicked: null, shown: null};
  button.addEventListener("click", () => { window.__bench.clicked = performance.now(); }, {capture: true, once: true});
  const seen = () => window.__bench.clicked !== null && document.body.innerText.includes(text);
  const observer = new MutationObserver(() => {
    if (window.__bench.shown === null && seen()) {
      observer.disconnect();
      requestAnimationFrame(() => { window.__bench.shown = performance.now(); });
    }
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def press_until(page, button: str, done: str, settle_s: float = SETTLE_S, timeout_s: float = 300) -> float:
    """On an open playwright `page`: wait for the button named `button`, let the opening settle, press it, and wait
    for the text `done` (e.g. Train, then "Finished."); the seconds from the click to the first frame painted with
    `done`, by the page's clock."""
    control = page.get_by_role("button", name=button, exact=True)
    control.wait_for(timeout=90_000)
    page.wait_for_timeout(settle_s * 1000)
    control.evaluate(WATCH, done)
    control.click()
    page.get_by_text(done).first.wait_for(timeout=timeout_s * 1000)
    page.wait_for_function("window.__bench.shown !== null", timeout=timeout_s * 1000)
    return page.evaluate("(window.__bench.shown - window.__bench.clicked) / 1000")


def train_to_finished(root: Path = ROOT, runs: int = 3, families: list[str] | None = None) -> dict[str, list[float]]:
    """Seconds from pressing Train to "Finished." on each family's page, `runs` times each: {family: [s, ...]}."""
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {}
    with streamlit_server(root=root) as (url, _proc), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for family in families or list(FAMILIES):
            for _ in range(runs):
                page = browser.new_page(viewport={"width": 1400, "height": 1600})
                page.goto(f"{url}/{page_path(family)}")
                times.setdefault(family, []).append(round(press_until(page, "Train", "Finished."), 2))
                page.close()
        browser.close()
    return times


@contextlib.contextmanager
def checkout(ref: str) -> Iterator[Path]:
    """A temporary `git worktree` of this repository at `ref` (removed afterwards)."""
    folder = Path(tempfile.mkdtemp(prefix="explorer-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), ref], cwd=ROOT, check=True, capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT, capture_output=True)
