"""Every page renders under AppTest, and bad input on the Flow matching page ends in a message.

AppTest runs the script once per call: the live fragment renders once and the training worker
thread keeps training between calls, so tests that need training wait on the session itself.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from apptest_pages import TRAINING_PAGE_KEYS, open_groups, router_app
from page_figures import live_html, plotly_figures
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 90
FM = str(ROOT / "pages/flow_matching.py")


def _run(path: str, *groups: str) -> AppTest:
    """The page (or the whole app: router.py) run once, with these groups of the Flow matching sidebar open."""
    app = router_app(TIMEOUT) if path == "router.py" else AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT)
    at = open_groups(app, "fm", *groups)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _session(at: AppTest):
    return at.session_state["session:flow_matching"]


def _stop(at: AppTest) -> None:
    """Pause the session and let its worker thread end (it would otherwise train on after the test)."""
    session = _session(at)
    session.pause()
    worker = at.session_state["worker:flow_matching"] if "worker:flow_matching" in at.session_state else None  # noqa: SIM401 (no .get on AppTest state)
    if worker is not None:
        worker.join(5)


def _wait_for(predicate, seconds: float = 30.0) -> None:
    end = time.monotonic() + seconds
    while not predicate() and time.monotonic() < end:
        time.sleep(0.05)


def test_app_router_opens_home_with_device_status() -> None:
    at = _run("router.py")  # Home links pages with st.page_link, which needs the router's st.navigation
    assert any("Generative Models Explorer" in t.value for t in at.title)
    text = " ".join(m.value for m in at.markdown)
    assert "Training runs on" in text and "CPU" in text


@pytest.mark.parametrize(
    "page",
    ["pages/densities.py", "pages/flow_matching.py", "pages/vae.py", "pages/normalizing_flows.py"],
)
def test_app_router_switches_to_every_page(page: str) -> None:
    at = _run("router.py")
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title


@pytest.mark.parametrize(
    "tab", ["Probability path", "Conditional vs marginal", "Integrators", "Coupling", "Guidance", "The maths"]
)
def test_flow_matching_page_renders_every_tab(tab: str) -> None:
    at = AppTest.from_file(FM, default_timeout=TIMEOUT)
    at.session_state["fm.tab"] = tab
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    labels = [b.label for b in at.button]
    assert labels[labels.index("Train") :][:4] == ["Train", "Pause", "Step", "Reset"]
    assert len(plotly_figures(at)) >= 2  # live samples + velocity field, then the tab's own figures


def test_train_then_pause_advances_steps_and_keeps_them() -> None:
    at = _run(FM)
    at.button(key="fm.train").click().run()
    _wait_for(lambda: _session(at).step_count > 200)
    at.button(key="fm.pause").click().run()
    assert not at.exception
    steps = _session(at).step_count
    assert steps > 200 and _session(at).status == "paused"
    at.run()
    assert _session(at).step_count == steps  # nothing lost, nothing trained while paused
    assert f"step {steps:,}" in live_html(at)


def test_step_button_takes_one_step() -> None:
    at = _run(FM)
    at.button(key="fm.step").click().run()
    assert _session(at).step_count == 1 and _session(at).status == "paused"


def test_learning_rate_of_ten_diverges_with_a_message_not_a_traceback() -> None:
    at = _run(FM, "training")
    at.number_input(key="fm.lr").set_value(10.0).run()
    at.button(key="fm.train").click().run()
    _wait_for(lambda: _session(at).status == "diverged")
    at.run()
    _stop(at)
    assert not at.exception
    assert _session(at).status == "diverged"
    assert any("diverged" in e.value and "learning rate" in e.value for e in at.error)


def test_learning_rate_change_applies_without_reset() -> None:
    at = _run(FM, "training")
    at.button(key="fm.step").click().run()
    at.number_input(key="fm.lr").set_value(0.002).run()
    assert _session(at).step_count == 1 and _session(at).config.lr == 0.002
    assert not at.info  # no reset notice


def test_architecture_change_resets_with_a_notice() -> None:
    at = _run(FM, "model")
    at.button(key="fm.step").click().run()
    at.select_slider(key="fm.hidden").set_value(32).run()
    assert _session(at).step_count == 0
    assert any("reset" in i.value for i in at.info)


@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_missing_gpu_falls_back_to_cpu_and_says_so(device: str) -> None:
    from explorer.device import available_devices

    if device in available_devices():
        pytest.skip(f"{device} is available here")
    at = _run(FM, "training")
    at.selectbox(key="fm.device").select(device).run()
    assert not at.exception
    assert _session(at).device_choice.device.type == "cpu"
    assert any("running on the CPU instead" in w.value for w in at.warning)


def test_sde_sampler_without_a_gaussian_score_says_it_samples_with_the_ode() -> None:
    at = _run(FM)
    assert not any("SDE sampler needs" in i.value for i in at.info)  # the default samples with the SDE
    at.selectbox(key="fm.coupling").select("ot").run()
    assert not at.exception
    assert _session(at).config.sampler == "sde" and not _session(at).method.stochastic
    assert any("SDE sampler needs" in i.value and "follow the ODE" in i.value for i in at.info)


def test_guidance_tab_with_a_conditional_model() -> None:
    at = open_groups(AppTest.from_file(FM, default_timeout=TIMEOUT), "fm", "guidance")
    at.session_state["fm.tab"] = "Guidance"
    at.run()
    at.toggle(key="fm.guidance").set_value(True).run()
    assert not at.exception
    assert _session(at).method.conditional
    assert any("Guiding towards" in m.value for m in at.markdown)


@pytest.mark.parametrize("page", sorted(TRAINING_PAGE_KEYS))
def test_the_export_panel_builds_when_opened(page: str) -> None:
    """The panel builds nothing while closed (a page opens sooner); opened, it offers the notebook and the
    checkpoint, after a few steps the training evolution too."""
    key = TRAINING_PAGE_KEYS[page]
    closed = _run(f"pages/{page}.py")
    assert "Save checkpoint (.pt)" not in [e.proto.label for e in closed.get("download_button")]
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=TIMEOUT)
    at.session_state[f"{key}.export"] = True
    at.run()
    at.button(key=f"{key}.step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    labels = [e.proto.label for e in at.get("download_button")]
    assert "Download as notebook (.ipynb)" in labels and "Save checkpoint (.pt)" in labels, labels
