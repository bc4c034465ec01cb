"""Make the pictures of README.md and of Home's cards from the running app: `python assets/make_pictures.py`.

Starts `streamlit run app.py` on a free port, opens every page in headless Chromium (Debian's, at $CHROMIUM or
/usr/bin/chromium, driven by the playwright package of requirements-dev.txt), runs each training page's default
configuration from Train to Finished, and writes
- assets/pages/<page>.png: the page's first chart after its default run, fitted into 480 x 360 (Home's cards);
- assets/readme.png: the Flow matching page while it trains, as a learner sees it (README.md).
Rerun it after changing what a page draws, so that the pictures never show an older app.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.bench.page import CHROMIUM, FLAGS, press_until  # noqa: E402
from explorer.bench.server import streamlit_server  # noqa: E402

CARD = (480, 360)  # every card's picture: the chart fitted into this box, centred on white
CHART = "div.explorer-plotly-chart[data-kind=plotly]"  # a Plotly chart (not the readouts: same component, HTML)
README_STEPS = 20_000

# page path -> (text that says the page is ready, button to press first or None, text that says it is done)
PAGES = {
    "densities": ("Densities", None, None),
    "divergences": ("The lesson.", None, None),
    "gan": ("Train", "Train", "Finished."),
    "vae": ("Train", "Train", "Finished."),
    "normalizing_flows": ("Train", "Train", "Finished."),
    "flow_matching": ("Train", "Train", "Finished."),
    "diffusion": ("Train", "Train", "Finished."),
    "langevin": ("final mode coverage TV", None, None),
    "compare": ("Start", "Start", "What to use for what"),
    "retrain": ("Run", "Run", "generation 60 / 60"),
}
QUERY = {"compare": "?families=gan,flow_matching&budget_s=3", "retrain": "?n=100&generations=60"}
CHART_INDEX = {"retrain": 5}  # the card's chart when not the first: the filmstrip's last generation
PLAY = {"langevin": 8}  # pages whose first chart is an animation: seconds to let it play


def _open(page, url: str, ready: str, press: str | None, done: str | None) -> None:
    page.goto(url)
    if press:
        press_until(page, press, done, settle_s=1.5)
    else:
        page.get_by_text(ready).first.wait_for(timeout=60_000)
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{CHART}')].some(d => (d.data || []).length)", timeout=60_000
    )
    page.wait_for_timeout(2500)  # the last rerun's charts settle


def _save_card(png: bytes, path: Path) -> None:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image = image.crop(ImageOps.invert(image).getbbox() or (0, 0, image.width, image.height))  # white margins off
    scale = min(CARD[0] / image.width, CARD[1] / image.height)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
    card = Image.new("RGB", CARD, "white")
    card.paste(image, ((CARD[0] - image.width) // 2, (CARD[1] - image.height) // 2))
    card.save(path, optimize=True)


def _readme_picture(browser, url: str) -> None:
    """The Flow matching page three seconds into training (a longer run than the default, so that it is still
    training), as a learner sees it."""
    page = browser.new_page(viewport={"width": 1400, "height": 1350}, device_scale_factor=1)
    page.goto(f"{url}/flow_matching?steps={README_STEPS}")
    press_until(page, "Train", "Training…")
    page.wait_for_timeout(3000)
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    page.get_by_role("button", name="Pause", exact=True).click()
    shot.save(ROOT / "assets" / "readme.png", optimize=True)
    print("readme: done", flush=True)
    page.close()


def main() -> int:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)", file=sys.stderr)
        return 1
    out = ROOT / "assets" / "pages"
    out.mkdir(exist_ok=True)
    with streamlit_server() as (url, _proc), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for name, (ready, press, done) in PAGES.items():
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
            _open(page, f"{url}/{name}{QUERY.get(name, '')}", ready, press, done)
            chart = page.locator(CHART).nth(CHART_INDEX.get(name, 0))
            chart.scroll_into_view_if_needed()
            if name in PLAY:  # an animation: its last frame
                page.get_by_text("▶ Play").first.click()
                page.wait_for_timeout(PLAY[name] * 1000)
            _save_card(chart.screenshot(), out / f"{name}.png")
            print(f"{name}: done", flush=True)
            page.close()
        _readme_picture(browser, url)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
