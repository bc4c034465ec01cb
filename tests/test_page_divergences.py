"""The Divergences page, headless (AppTest): every tab renders with the right numbers, settings survive
tab and page switches, presets move the widgets, and extreme or nonsense values give a result."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from apptest_pages import ok, router_app, run_page
from page_figures import plotly_figures
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "divergences.py")
TABS = ["Point masses", "Moving distributions", "Earth mover's distance", "Optimal discriminator D*", "The maths"]
CHARTS = {TABS[0]: 2, TABS[1]: 4, TABS[2]: 4, TABS[3]: 1, TABS[4]: 0}


def _page(tab: str = TABS[0], **state) -> AppTest:
    return run_page(
        PAGE, {"div.tab": tab} | {key.replace("__", "."): value for key, value in state.items()}, timeout=60
    )


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_renders(tab: str) -> None:
    at = _page(tab)
    assert len(plotly_figures(at)) == CHARTS[tab]
    assert at.title[0].value == "Divergences"


def test_point_masses_show_inf_log2_and_distance() -> None:
    at = _page()
    values = _metrics(at)
    assert values["KL(p ‖ q)"] == "∞" and values["JS(p ‖ q)"] == "0.693" and values["W₁(p, q)"] == "1.500"
    assert values["dJS/dθ"] == "0.000" and values["dW₁/dθ"] == "1"
    at.slider(key="div.theta").set_value(0.0).run()
    values = _metrics(ok(at))
    assert values["KL(p ‖ q)"] == values["JS(p ‖ q)"] == values["W₁(p, q)"] == "0.000"
    at.slider(key="div.theta").set_value(-2.5).run()
    at.select_slider(key="div.blur").set_value(0.5).run()
    values = _metrics(ok(at))
    assert values["KL(p ‖ q)"] == "12.500" and values["W₁(p, q)"] == "2.500"  # theta^2 / (2 sigma^2)
    assert 0 < float(values["JS(p ‖ q)"]) < 0.693
    assert "vanishing gradient" in " ".join(m.value for m in at.markdown)


def test_moving_distributions_show_closed_forms_for_gaussians() -> None:
    at = _page(TABS[1], div__p1="gaussian", div__q1="narrow_gaussian", div__shift1=2.0, div__scale1=1.0)
    values = _metrics(at)
    # KL(N(0,1) || N(2, 0.25)) = log 0.5 + (1 + 4) / 0.5 - 1/2 = 8.807; reverse: -log 0.5 + (0.25 + 4)/2 - 1/2
    assert values["KL(p ‖ q)"] == "8.807" and values["KL(q ‖ p)"] == "2.318"
    assert "Closed forms (both Gaussian): KL(p ‖ q) = **8.807**" in " ".join(m.value for m in at.markdown)
    at.selectbox(key="div.q1").select("uniform").run()
    values = _metrics(ok(at))
    assert values["KL(p ‖ q)"] == "∞" and values["KL(q ‖ p)"] != "∞"  # a Gaussian is not inside a box
    assert any("No closed form" in m.value for m in at.markdown)


def test_earth_mover_tab_shows_three_four_ways() -> None:
    at = _page(TABS[2])
    values = _metrics(at)
    assert values["W₁ from the CDFs"] == values["cost of the plan"] == values["dual value of the critic"] == "3.000"
    assert abs(float(values["POT (2,000 samples)"]) - 3.0) < 0.1
    table = at.dataframe[0].value
    assert list(table["cost = mass × distance"]) == ["0.9375", "0.5625", "1.5000"]


def test_optimal_discriminator_value_and_presets() -> None:
    at = _page(TABS[3])
    values = _metrics(at)
    assert values["V(D*, G) on the grid"] == values["−log 4 + 2 JS"]
    at.button(key="div.preset.q = p: D* = ½, JS = 0").click().run()
    values = _metrics(ok(at))
    assert values["JS(p ‖ q)"] == "0.000" and values["V(D*, G) on the grid"] == "−1.386"
    assert at.selectbox(key="div.q2").value == at.selectbox(key="div.p2").value
    at.button(key="div.preset.q far from p: JS ≈ log 2").click().run()
    values = _metrics(ok(at))
    assert values["JS(p ‖ q)"] == "0.693" and at.slider(key="div.bx").value == 6.0
    at.selectbox(key="div.p2").select("checkerboard").run()
    at.selectbox(key="div.q2").select("gaussian").run()
    values = _metrics(ok(at))
    assert values["KL(q ‖ p)"] == "∞" and values["KL(p ‖ q)"] != "∞"


def test_gaussians_in_2d_show_the_closed_form() -> None:
    at = _page(TABS[3], div__p2="gaussian", div__q2="gaussian", div__bx=1.0, div__by=-1.0, div__scale2=1.0)
    values = _metrics(at)
    assert values["KL(p ‖ q)"] == values["KL(q ‖ p)"] == "1.000"  # |b|^2 / 2
    assert "Closed forms (two Gaussians): KL(p ‖ q) = **1.000**" in " ".join(m.value for m in at.markdown)


def test_the_maths_tab_states_primal_and_dual() -> None:
    at = _page(TABS[4])
    latex = " ".join(e.value for e in at.latex)
    assert r"\inf_{\pi \in \Pi(\mu, \nu)}" in latex and r"\sup_{\|f\|_L \le 1}" in latex
    assert r"-\log 4 + 2\,JS" in latex


def test_settings_survive_tab_and_page_switches() -> None:
    at = _page()
    at.slider(key="div.theta").set_value(2.25).run()
    at.select_slider(key="div.blur").set_value(0.1).run()
    for tab in (TABS[2], TABS[0]):  # the point-mass widgets are not drawn while another tab is open
        at.session_state["div.tab"] = tab
        ok(at.run())
    assert at.slider(key="div.theta").value == 2.25 and at.select_slider(key="div.blur").value == 0.1
    # a page switch drops every widget's state but keeps plain keys: a fresh run with only the kept copies
    kept = {key: at.session_state[key] for key in ("div.theta#kept", "div.blur#kept", "div.tab#kept")}
    again = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in kept.items():
        again.session_state[key] = value
    ok(again.run())
    assert again.slider(key="div.theta").value == 2.25 and again.select_slider(key="div.blur").value == 0.1


@pytest.mark.parametrize(
    ("tab", "state"),
    [
        (TABS[0], {"div__theta": 1e9, "div__blur": -3.0}),
        (TABS[0], {"div__theta": float("nan"), "div__blur": "a lot"}),
        (TABS[1], {"div__shift1": -1e12, "div__scale1": 0.0, "div__p1": "nonsense", "div__q1": None}),
        (TABS[1], {"div__p1": "uniform", "div__q1": "uniform", "div__shift1": 8.0, "div__scale1": 0.25}),
        (TABS[2], {"div__offset": float("inf")}),
        (TABS[3], {"div__p2": "spirals", "div__q2": "two_moons", "div__bx": -1e9, "div__by": 7.0, "div__scale2": 1e6}),
        (TABS[3], {"div__p2": "checkerboard", "div__q2": "eight_gaussians", "div__bx": 6.0, "div__scale2": 2.0}),
        ("no such tab", {}),
    ],
)
def test_extreme_or_nonsense_values_give_a_result(tab: str, state: dict) -> None:
    at = _page(tab, **state)
    assert at.metric  # an unknown tab falls back to the first one
    if tab == TABS[0] and state["div__theta"] == 1e9:
        assert at.slider(key="div.theta").value == 4.0 and _metrics(at)["W₁(p, q)"] == "4.000"


@pytest.mark.parametrize(("key", "ends"), [("div.theta", (-4.0, 4.0)), ("div.shift1", (-8.0, 8.0))])
def test_slider_ends(key: str, ends: tuple[float, float]) -> None:
    """At either end of the slider the supports are far apart: W₁ is the distance moved, |θ| between the point
    masses δ₀ and δ_θ (KL infinite, JS log 2 with zero slope), |shift| between N(0, 1) and the shifted two bumps
    (CDFs that no longer cross: W₁ = the difference of the means), and JS is within 0.01 of log 2."""
    tab = TABS[0] if key == "div.theta" else TABS[1]
    at = _page(tab)
    for end in ends:
        at.slider(key=key).set_value(end).run()
        values = _metrics(ok(at))
        if key == "div.theta":
            assert values["W₁(p, q)"] == f"{abs(end):.3f}" and values["KL(p ‖ q)"] == "∞"
            assert values["JS(p ‖ q)"] == f"{math.log(2):.3f}" and values["dJS/dθ"] == "0.000"
            assert values["dW₁/dθ"] == ("1" if end > 0 else "−1")
        else:
            assert float(values["W₁ from the CDFs"]) == pytest.approx(abs(end), abs=1e-3)
            assert float(values["JS(p ‖ q)"]) == pytest.approx(math.log(2), abs=0.01)


def test_the_router_reaches_the_page() -> None:
    at = router_app(60).run()
    ok(at)
    at.switch_page("pages/divergences.py").run()
    ok(at)
    assert at.title[0].value == "Divergences"
