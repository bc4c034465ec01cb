"""End to end in a real headless Chromium: start `streamlit run app.py`, open the pages, train.

Skipped (with the reason) where Debian's Chromium or the playwright package is missing; CI
installs both. Nothing here asserts on timing; the figures it reads are printed for the record.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from explorer.bench.server import server_log, streamlit_server
from explorer.data.densities import DENSITIES
from explorer.methods import FlowMatchingConfig

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)", allow_module_level=True)

pytestmark = pytest.mark.browser
LONG_RUN = "steps=1000000"  # the default step budgets can run out in the seconds before Pause (fast CI)


SERVER: dict = {}  # the running server process, for its log in failure reports


@pytest.fixture(scope="module")
def server():
    try:
        with streamlit_server() as (url, proc):
            SERVER["proc"] = proc
            yield url
    except RuntimeError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _no_exception(page) -> None:
    errors = page.locator("[data-testid=stException]")
    assert errors.count() == 0, errors.first.inner_text()


def _pause(page) -> None:
    """Press Pause and wait for the status line to say so; on a timeout, report what the page shows.

    A page redrawing four times a second keeps the renderer busy; if the status still says training
    and Pause is still enabled after 10 s, the click is taken as lost and made once more (a user
    would click again). Both attempts failing fails the test with the page's and server's state."""
    button = page.get_by_role("button", name="Pause", exact=True)
    for attempt in range(2):
        button.click()
        try:
            page.get_by_text("Paused.").first.wait_for(timeout=10_000)
            return
        except playwright_api.TimeoutError:
            if attempt == 1 or button.is_disabled():
                break
            print("Pause: no effect after 10 s and the button still enabled; clicking again")
    progress = page.locator(".explorer-status").all_inner_texts()
    disabled = {name: page.get_by_role("button", name=name, exact=True).is_disabled() for name in ("Train", "Pause")}
    log = server_log(SERVER["proc"]) if "proc" in SERVER else ""
    pytest.fail(f"'Paused.' not shown after Pause; progress {progress}; disabled {disabled}; server log:\n{log}")


def _with_query(url: str, query: str) -> str:
    """`url` with the parameters of `query` set (replacing any of the same name)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query)) | dict(parse_qsl(query))
    return urlunsplit(parts._replace(query=urlencode(params)))


READOUTS = """() => Object.fromEntries([...document.querySelectorAll('.readout')].map(
    (c) => [c.querySelector('.label').innerText, c.querySelector('.value').innerText]))"""


def _readouts(page) -> dict[str, str]:
    """The live readouts, label -> value, read at one moment (a rerun may redraw them between two reads)."""
    return page.evaluate(READOUTS)


def _step(page) -> int:
    text = page.locator(".explorer-status").first.inner_text()
    match = re.search(r"step ([\d,]+) /", text)
    assert match, text
    return int(match.group(1).replace(",", ""))


def _watch_training(page) -> tuple[int, int]:
    """Watch 3 s of training: the step counter moves, and the live charts are redrawn in place (the same
    chart documents: a remounted chart is a blank frame, and loses its mark). Steps before and after."""
    before, renders = _step(page), _mark_live_charts(page)
    page.wait_for_timeout(3000)
    after = _step(page)
    assert after > before, (before, after)
    redrawn = _live_chart_renders_since_marked(page)
    assert len(redrawn) == len(renders) >= 2, (renders, redrawn)
    assert max(now - then for then, now in zip(renders, redrawn, strict=True)) >= 3, (renders, redrawn)
    print(f"live charts redrawn in place: {renders} -> {redrawn}")
    return before, after


LIVE_CHARTS = "div.explorer-plotly-chart[data-place][data-kind=plotly]"  # plotly_chart.js: a live panel's charts


def _mark_live_charts(page) -> list[int]:
    """Mark each live chart's element; how many times each has drawn so far."""
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{LIVE_CHARTS}')].every(d => Number(d.dataset.renders) > 0)"
        f" && document.querySelectorAll('{LIVE_CHARTS}').length > 0",
        timeout=30_000,
    )
    return page.evaluate(
        f"() => [...document.querySelectorAll('{LIVE_CHARTS}')]"
        ".map(d => { d.kept = true; return Number(d.dataset.renders); })"
    )


def _live_chart_renders_since_marked(page) -> list[int]:
    """Each live chart's draw count, asserting it is the element marked before and has traces."""
    charts = page.evaluate(
        f"() => [...document.querySelectorAll('{LIVE_CHARTS}')].map(d => [d.kept === true, (d.data || []).length,"
        " Number(d.dataset.renders)])"
    )
    for kept, traces, _ in charts:
        assert kept and traces > 0, charts
    return [renders for _, _, renders in charts]


def test_home_and_navigation(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    page.get_by_text("The map of the course").wait_for(timeout=60_000)
    _no_exception(page)
    nav = page.locator("[data-testid=stSidebarNav]").inner_text()
    assert "Flow matching" in nav and "Densities" in nav
    page.close()


@pytest.mark.parametrize(
    ("path", "title"),
    [("flow_matching", "Flow matching"), ("diffusion", "Diffusion and score"), ("gan", "GANs"), ("vae", "VAEs")],
)
def test_a_training_page_trains_live_in_the_browser(server, browser, path: str, title: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    sent = []  # what the page sends the server: its rerun requests
    page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(frame)))
    # a deep link must go through the app's router too; a long run, so that Pause meets it running
    page.goto(f"{server}/{path}?{LONG_RUN}")
    train = page.get_by_role("button", name="Train", exact=True)
    train.wait_for(timeout=60_000)
    assert title in page.locator("[data-testid=stSidebarNav]").inner_text()
    page.wait_for_timeout(1000)
    fetches = []  # the live view refreshes from its feed (explorer/ui/live_feed.py), not by Streamlit reruns
    page.on("request", lambda request: fetches.append(request.url) if "/explorer-live/" in request.url else None)
    clicked, sent_before = time.monotonic(), len(sent)
    train.click()
    page.get_by_text("Training…").first.wait_for(timeout=20_000)
    first_frame = time.monotonic() - clicked
    before, after = _watch_training(page)
    reruns = _reruns(sent[sent_before:])  # Train reruns its buttons' fragment only, and the view comes from the feed
    assert reruns and all(rerun.fragment_id for rerun in reruns), reruns
    readouts = _readouts(page)
    print(f"first live frame {first_frame:.2f} s; steps {before} -> {after} in 3 s; readouts {readouts}")
    assert "steps / s" in readouts and "view refresh / s" in readouts
    assert len(fetches) >= 6, fetches  # 3 s at about four refreshes a second, and the curves
    _no_exception(page)
    _pause(page)
    _no_exception(page)
    page.close()


def _reruns(frames: list) -> list:
    """The rerun requests (ClientState) among websocket frames the page sent."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    messages = [BackMsg.FromString(frame) for frame in frames if isinstance(frame, bytes)]
    return [m.rerun_script for m in messages if m.WhichOneof("type") == "rerun_script"]


PLOTTED_TRACES = """() => Array.from(document.querySelectorAll('.js-plotly-plot'), (el) =>
    (el.data || []).filter((t) => (t.x && t.x.length) || (t.z && t.z.length)).length)"""


def test_densities_page_draws_samples_exact_density_and_every_thumbnail(server, browser) -> None:
    """The first density's samples and exact density with its score, and one thumbnail per canonical density, each
    drawn with data; a thumbnail's button shows that density, and one without a closed form says so."""
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(f"{server}/densities")
    page.get_by_role("heading", name="Densities").first.wait_for(timeout=60_000)
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {2 + len(DENSITIES)}")
    _no_exception(page)
    traces = page.evaluate(PLOTTED_TRACES)
    assert len(traces) == 2 + len(DENSITIES) and min(traces) >= 1, traces
    page.get_by_role("button", name="Two moons", exact=True).click()
    page.get_by_text("Exact density and score: no closed form").first.wait_for(timeout=30_000)
    page.get_by_text("Two moons.").first.wait_for(timeout=30_000)
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length == {1 + len(DENSITIES)}")
    _no_exception(page)
    assert min(page.evaluate(PLOTTED_TRACES)) >= 1  # the samples and the thumbnails; no exact panel
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


def test_vae_page_collapses_on_its_preset_and_opens_every_tab(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(f"{server}/vae")
    page.get_by_role("button", name="Posterior collapse (β = 20)").click()
    page.get_by_text("Every q(z|x) sits on the prior").first.wait_for(timeout=60_000)
    # The preset's settings are in the address bar: reopen it with a long run (a preset restores the
    # default step budget, which a fast machine can finish before Pause), and the preset's advice stays.
    page.wait_for_function("() => window.location.search.includes('beta=20')", timeout=20_000)
    page.goto(_with_query(page.url, LONG_RUN))
    page.get_by_text("Every q(z|x) sits on the prior").first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Training…").first.wait_for(timeout=20_000)
    page.wait_for_timeout(4000)
    readouts = _readouts(page)
    print(f"VAE readouts while collapsing: {readouts}")
    assert "−ELBO" in readouts and "active dims" in readouts
    _pause(page)
    for tab in ("AE vs VAE: holes", "VQ-VAE", "The maths", "Reparametrisation"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(1500)
        _no_exception(page)
    page.get_by_role("button", name="Draw ε").click()
    page.wait_for_timeout(1500)
    _no_exception(page)
    page.get_by_role("tab", name="Log-likelihood").click()  # the paused model's likelihood, four ways
    page.get_by_text("NLL, quadrature").first.wait_for(timeout=30_000)
    _no_exception(page)
    page.close()


def test_the_density_tab_draws_while_training_is_paused(server, browser) -> None:
    """Flow matching paused mid-run: the Density (CNF) tab integrates the paused model's ODE and draws its density,
    the target's and the continuity equation's two sides."""
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(f"{server}/flow_matching?{LONG_RUN}")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Training…").first.wait_for(timeout=20_000)
    page.wait_for_timeout(2000)
    _pause(page)
    page.get_by_role("tab", name="Density (CNF)").click()
    page.get_by_text("NLL of fresh data").first.wait_for(timeout=30_000)
    page.get_by_text("−∇·(p_t u_t) at t").first.wait_for(timeout=30_000)
    _no_exception(page)
    page.close()


def test_divergences_page_shows_the_notes_values(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(f"{server}/divergences")
    page.get_by_text("The lesson.").first.wait_for(timeout=60_000)
    values = page.locator("[data-testid=stMetricValue] >> visible=true")  # the open tab's metrics
    values.nth(2).wait_for(timeout=30_000)  # the metrics can arrive after the lesson's text
    assert values.all_inner_texts()[:3] == ["∞", "0.693", "1.500"]  # KL, JS, W₁ for δ₀ against δ_θ
    page.get_by_role("slider").first.press("End")  # θ = 4: JS stays log 2, W₁ follows θ
    page.get_by_text("4.000").first.wait_for(timeout=20_000)
    assert values.all_inner_texts()[:3] == ["∞", "0.693", "4.000"]
    page.get_by_role("tab", name="Earth mover's distance").click()
    page.get_by_text("cost of the plan").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    assert values.all_inner_texts()[:3] == ["3.000", "3.000", "3.000"]
    page.get_by_role("tab", name="Optimal discriminator D*").click()
    page.get_by_role("button", name="q = p: D* = ½, JS = 0").click()
    page.get_by_text("−1.386").first.wait_for(timeout=30_000)
    for tab in ("Moving distributions", "The maths"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(1500)
        _no_exception(page)
    page.close()


def test_the_critics_estimate_kl_and_js_live_and_the_disjoint_demo_climbs(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(f"{server}/divergences?tab=A%20critic%20estimates%20the%20divergence")
    train = page.get_by_role("button", name="Train", exact=True)
    train.wait_for(timeout=60_000)
    train.click()
    page.get_by_text("Training…").first.wait_for(timeout=20_000)
    page.evaluate("() => document.querySelectorAll('.js-plotly-plot').forEach((el) => { el.seenTraining = true; })")
    page.get_by_text("Finished").first.wait_for(timeout=60_000)
    readouts = _readouts(page)
    assert readouts["exact KL(q ‖ p)"] == "1.12", readouts
    assert abs(float(readouts["KL(q ‖ p): Donsker–Varadhan bound"]) - 1.125) < 0.15, readouts
    assert page.evaluate(PLOTTED_TRACES)[:4] == [3, 3, 3, 3]  # f, log q/p, D, D*: each a map and two clouds
    page.wait_for_timeout(2000)  # the rerun at the end keeps the live maps where they are: redrawn, not remounted
    assert (
        page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].map((el) => !!el.seenTraining)")
        == [True] * 4
    )
    page.get_by_role("button", name="Disjoint supports", exact=True).click()
    page.get_by_text("KL is infinite").first.wait_for(timeout=30_000)
    page.get_by_text("Ready: press Train.").first.wait_for(timeout=30_000)  # the rerun has reached the live view
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Training…").first.wait_for(timeout=20_000)
    page.get_by_text("Finished").first.wait_for(timeout=60_000)
    readouts = _readouts(page)
    assert readouts["exact KL(q ‖ p)"] == "∞" and float(readouts["KL(q ‖ p): Donsker–Varadhan bound"]) > 100
    _no_exception(page)
    page.close()


def test_the_retraining_page_runs_flow_matching_for_ten_generations_and_the_gmm_demo_for_200(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(f"{server}/retrain?model=flow_matching&generations=10&steps=500")
    run = page.get_by_role("button", name="Run", exact=True)
    run.wait_for(timeout=60_000)
    run.click()
    page.get_by_text("generation 10 / 10").wait_for(timeout=120_000)
    page.get_by_role("button", name="Fully synthetic (collapse)", exact=True).click()
    page.get_by_text("generation 0 / 200").wait_for(timeout=30_000)
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("generation 200 / 200").wait_for(timeout=120_000)
    page.wait_for_timeout(1500)
    charts = page.locator("[data-testid=stVegaLiteChart]")
    assert charts.count() >= 5  # gap, TV, smallest mode, covariance trace, mass per mode
    legend = page.locator("[data-testid=stVegaLiteChart]").first.inner_text()
    assert "flow_matching" in page.content() and "EM(8)" in page.content(), legend  # both runs on the curves
    assert page.evaluate(PLOTTED_TRACES)[:6] == [2] * 6  # the filmstrip: target and samples in each frame
    _no_exception(page)
    page.close()


def test_compare_page_trains_two_families_and_shows_the_table(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(f"{server}/compare?families=gan,flow&budget_s=2")
    start = page.get_by_role("button", name="Start", exact=True)
    start.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    clicked = time.monotonic()
    start.click()
    page.get_by_text("Training GAN (1 of 2)").first.wait_for(timeout=20_000)
    page.get_by_text("What to use for what").wait_for(timeout=60_000)
    print(f"two families at 2 s each: done {time.monotonic() - clicked:.1f} s after Start")
    _no_exception(page)
    table = page.locator("[data-testid=stTable]")
    assert table.count() == 1
    text = table.inner_text()
    assert "GAN" in text and "Normalizing flow (RealNVP)" in text and "evals / sample" in text
    assert page.locator("div.explorer-plotly-chart").count() == 2  # the two families' samples
    page.close()


def test_normalizing_flows_page_trains_and_plays_the_layers(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    page.goto(f"{server}/normalizing_flows?{LONG_RUN}")
    train = page.get_by_role("button", name="Train", exact=True)
    train.wait_for(timeout=60_000)
    assert "Normalizing flows" in page.locator("[data-testid=stSidebarNav]").inner_text()
    page.wait_for_timeout(1000)
    train.click()
    page.get_by_text("Training…").first.wait_for(timeout=20_000)
    before, after = _watch_training(page)
    readouts = _readouts(page)
    print(f"steps {before} -> {after} in 3 s; readouts {readouts}")
    assert readouts.get("floor H(p)") == "3.466"  # log 32: the checkerboard's entropy
    page.get_by_text("The noise grid after each coupling").wait_for(timeout=20_000)
    _pause(page)
    play = page.get_by_text("▶ Play", exact=True)
    # noise -> data and data -> noise; the rerun after Pause can briefly hold a stale copy beside the new one
    playwright_api.expect(play).to_have_count(2, timeout=30_000)
    play.first.click()
    page.wait_for_timeout(1500)
    _no_exception(page)
    page.get_by_role("tab", name="Density check").click()
    page.get_by_text("∫ p_θ over [−6, 6]²").wait_for(timeout=30_000)
    page.get_by_role("tab", name="The maths").click()
    page.get_by_text("change of variables").first.wait_for(timeout=30_000)
    _no_exception(page)
    page.close()


# --- pages open fast; no raw page list ------------------------------------------------------------------

SCRIPT_BYTES = """() => performance.getEntriesByType('resource')
    .filter(e => e.initiatorType === 'script' || /\\.m?js(\\?|$)/.test(e.name))
    .reduce((sum, e) => [sum[0] + e.transferSize, sum[1] + e.decodedBodySize], [0, 0])"""


def _all_live_charts_drawn(page, count: int) -> None:
    page.wait_for_function(
        f"() => {{ const charts = [...document.querySelectorAll('{LIVE_CHARTS}')];"
        f" return charts.length >= {count}"
        " && charts.every(d => Number(d.dataset.renders) > 0 && (d.data || []).length); }",
        timeout=60_000,
    )


def _open_until_drawn(context, url: str, count: int) -> tuple[float, int, int]:
    """Seconds from navigation to every live chart drawn, and the JavaScript bytes (transferred, decoded)."""
    page = context.new_page()
    page.set_viewport_size({"width": 1400, "height": 1400})
    start = time.monotonic()
    page.goto(url)
    _all_live_charts_drawn(page, count)
    seconds = time.monotonic() - start
    transferred, decoded = page.evaluate(SCRIPT_BYTES)
    _no_exception(page)
    page.close()
    return seconds, transferred, decoded


@pytest.mark.parametrize(("path", "title", "charts"), [("flow_matching", "Flow matching", 2), ("gan", "GANs", 2)])
def test_a_training_page_draws_every_live_chart_on_opening(server, browser, path: str, title: str, charts: int) -> None:
    """Opened in a fresh browser (empty cache), then again in a new tab of it, then reached from the sidebar:
    every live chart gets drawn each time. The seconds and JavaScript bytes are printed for the record."""
    context = browser.new_context()
    first = _open_until_drawn(context, f"{server}/{path}", charts)
    second = _open_until_drawn(context, f"{server}/{path}", charts)
    page = context.new_page()
    page.set_viewport_size({"width": 1400, "height": 1400})
    page.goto(f"{server}/densities")
    page.get_by_role("heading", name="Densities").first.wait_for(timeout=60_000)
    start = time.monotonic()
    page.locator("[data-testid=stSidebarNav]").get_by_text(title, exact=True).click()
    _all_live_charts_drawn(page, charts)
    switched = time.monotonic() - start
    _no_exception(page)
    context.close()
    mb = 1e6
    print(
        f"{path}: every live chart drawn {first[0]:.2f} s after navigation (fresh browser; JavaScript "
        f"{first[1] / mb:.2f} MB transferred, {first[2] / mb:.2f} MB decoded), {second[0]:.2f} s in a new tab "
        f"({second[1] / mb:.3f} MB transferred), {switched:.2f} s after a sidebar click"
    )


# the names Streamlit's own discovery of pages/ would list (file names, with spaces for underscores), and the main
# scripts'
_STEMS = {p.stem for p in (Path(__file__).resolve().parents[1] / "pages").glob("*.py")} | {"app", "router"}
RAW_PAGE_NAMES = _STEMS | {stem.replace("_", " ") for stem in _STEMS}
ALL_PAGES = ["", "densities", "divergences", "gan", "vae", "normalizing_flows", "flow_matching", "diffusion"]
ALL_PAGES += ["langevin", "compare", "retrain"]


def test_every_sidebar_entry_clicked_twice_quickly_shows_its_page(server, browser) -> None:
    """Click through the whole sidebar twice, quickly: each click lands on the app's navigation (titles, not
    file names) and a page with content, never Streamlit's automatic list of page files."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    page.get_by_text("The map of the course").wait_for(timeout=60_000)
    nav = page.locator("[data-testid=stSidebarNav]")
    titles = _nav_titles(page)
    assert len(titles) >= 10 and not RAW_PAGE_NAMES & set(titles), titles
    content = page.locator("[data-testid=stMain] h1, [data-testid=stMain] h2, [data-testid=stMain] h3")
    for _round in range(2):
        for title in titles:
            nav.get_by_text(title, exact=True).first.click()
            page.wait_for_timeout(300)
            _assert_app_navigation(page, titles)
            try:
                content.first.wait_for(timeout=20_000)
            except playwright_api.TimeoutError:
                pytest.fail(f"empty main area after clicking {title!r}")
            _assert_app_navigation(page, titles)
    page.wait_for_timeout(3000)  # the last click's page settles
    _assert_app_navigation(page, titles)
    assert content.count() > 0, "empty main area"
    _no_exception(page)
    page.close()


def _nav_titles(page) -> list[str]:
    """The sidebar's entries, their text without the icon's name (a ligature, "home" before "Home")."""
    texts = page.locator("[data-testid=stSidebarNav] a").all_inner_texts()
    return [t.strip().split("\n")[-1].strip() for t in texts if t.strip()]


def _assert_app_navigation(page, titles: list[str]) -> None:
    shown = _nav_titles(page)
    assert not RAW_PAGE_NAMES & set(shown), f"the raw page list: {shown}"
    assert not shown or shown == titles, shown
    assert page.locator("[data-testid=stMain]").count() == 1


_CANVAS = "[data-testid=stDialog] .explorer-plotly-chart"
_TRACE_XY = """([selector, prefix, title]) => {
    for (const div of document.querySelectorAll(selector)) {
        if (title && !(div._fullLayout?.title?.text || "").includes(title)) continue;
        for (const trace of div.data || []) {
            const named = (trace.name || "").startsWith(prefix);
            if (named && trace.x.length) return [Array.from(trace.x), Array.from(trace.y)];
        }
    }
    return null;
}"""


def _stroke(page, box: dict, y: float) -> None:
    """Press, drag across the middle of the canvas (a square plot centred in a wide box) at height fraction
    `y` of its box, release."""
    left, right = box["x"] + 0.5 * box["width"] - 150, box["x"] + 0.5 * box["width"] + 150
    top = box["y"] + y * box["height"]
    page.mouse.move(left, top)
    page.mouse.down()
    page.mouse.move(right, top, steps=25)
    page.mouse.up()


def test_drawn_data_trains_flow_matching_where_it_was_drawn(server, browser) -> None:
    """Two strokes drawn with the mouse become the density; flow matching's samples land on them."""
    import numpy as np

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/flow_matching")
    page.get_by_role("button", name="Draw your own data").click()
    page.locator(_CANVAS).wait_for(timeout=30_000)
    page.wait_for_function("s => document.querySelector(s)?._fullLayout !== undefined", arg=_CANVAS, timeout=30_000)
    box = page.locator(_CANVAS).bounding_box()
    _stroke(page, box, 0.3)
    page.get_by_text(re.compile(r"^[1-9][\d,]* points")).wait_for(timeout=20_000)  # the first stroke reached Python
    _stroke(page, box, 0.7)
    page.wait_for_function(
        "s => document.querySelector(s).data.some(t => t.name === 'your points' && t.y.some(v => v < 0))",
        arg=_CANVAS,
        timeout=20_000,
    )
    drawn = np.array(page.evaluate(_TRACE_XY, [_CANVAS, "your points"])).T
    assert (drawn[:, 1] > 0.5).mean() > 0.3 and (drawn[:, 1] < -0.5).mean() > 0.3, "two strokes, above and below"
    page.get_by_role("button", name="Use this drawing").click()
    page.locator("[data-testid=stDialog]").wait_for(state="detached", timeout=30_000)
    # the share link follows with the rerun's query parameters, which may land after the dialog has closed
    page.wait_for_function("() => location.search.includes('density=drawn')", timeout=30_000)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Finished.").first.wait_for(timeout=120_000)
    # the live samples chart of the last step (not another chart's model trace, such as the probability
    # path's particles at t = 0, which a chart still being redrawn by the final rerun would let through)
    last = [".explorer-plotly-chart", "model", f"Samples at step {FlowMatchingConfig().steps:,}"]
    page.wait_for_function(f"() => ({_TRACE_XY})({json.dumps(last)}) !== null", timeout=30_000)
    _no_exception(page)
    samples = np.array(page.evaluate(_TRACE_XY, last)).T
    nearest = np.sqrt(((samples[:, None, :] - drawn[None]) ** 2).sum(-1)).min(1)
    near = float((nearest < 0.5).mean())
    print(f"drawn {len(drawn)} points in two strokes; {100 * near:.0f}% of {len(samples)} samples within 0.5 of them")
    assert near > 0.8, f"only {100 * near:.0f}% of the samples lie within 0.5 of the drawn points"
    page.get_by_text("Export and share").first.click()
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="Download as notebook").click()
    notebook = json.loads(Path(download.value.path()).read_text())
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    assert "SAMPLE_DATA_POINTS" in code and code.count("],") >= len(drawn) - 1, "the drawing is in the notebook"
    page.close()


# --- nothing leaves the server; only the app's navigation, from the first load on ----------------------------------

NAV_RECORDER = """() => {
    window.__navSeen = [];
    const record = () => {
        const nav = document.querySelector('[data-testid=stSidebarNav]');
        if (!nav) return;
        const texts = [...nav.querySelectorAll('a')].map(a => a.innerText.trim().split('\\n').pop().trim());
        const last = window.__navSeen[window.__navSeen.length - 1];
        if (texts.length && JSON.stringify(texts) !== JSON.stringify(last)) window.__navSeen.push(texts);
    };
    new MutationObserver(record).observe(document, {subtree: true, childList: true, characterData: true});
}"""


def test_the_sidebar_lists_only_the_apps_navigation_from_a_fresh_servers_first_load(browser) -> None:
    """A new server's first visit is a deep link (the slow first load, kernels still warming up): every state the
    sidebar's navigation passes through, recorded by a MutationObserver from the first byte, is the app's own list
    of titles, never Streamlit's list of the files in pages/; then every page is opened by its address."""
    with streamlit_server() as (url, _proc):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(f"({NAV_RECORDER})()")
        seen = []
        for path in ["gan", *ALL_PAGES]:
            page.goto(f"{url}/{path}")
            page.locator("[data-testid=stMain] h1").first.wait_for(timeout=90_000)
            page.wait_for_timeout(1000)
            _no_exception(page)
            seen += page.evaluate("() => window.__navSeen")
        page.close()
    assert seen, "the navigation was never seen"
    titles = seen[-1]
    assert len(titles) == len(ALL_PAGES), titles
    for texts in seen:
        assert not RAW_PAGE_NAMES & set(texts), f"the raw page list: {texts}"
        assert texts == titles[: len(texts)], texts  # the app's titles, in its order (possibly still arriving)


def test_opening_any_page_asks_no_other_host(server, browser) -> None:
    """Offline or behind a classroom firewall every page works the same: opening each page (fresh browser context,
    empty cache) requests nothing from any host but the app's own (no font or icon CDN, no telemetry)."""
    own = urlsplit(server).netloc
    for path in ALL_PAGES:
        context = browser.new_context()
        page = context.new_page()
        requested: list[str] = []
        page.on("request", lambda r, into=requested: into.append(r.url))
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(f"{server}/{path}")
        page.locator("[data-testid=stMain] h1").first.wait_for(timeout=60_000)
        page.wait_for_timeout(2500)  # icons, fonts, charts
        _no_exception(page)
        context.close()
        elsewhere = [u for u in requested if urlsplit(u).netloc not in ("", own)]
        assert len(requested) > 10 and elsewhere == [], f"/{path} asked other hosts: {elsewhere}"
