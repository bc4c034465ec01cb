"""The Compare page, headless (AppTest): it renders, shows a finished comparison's grid, table and reading,
round-trips its settings through the URL, refuses bad input with a message, and Start / Stop drive a run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from apptest_pages import ok, run_page
from page_figures import plotly_figures
from streamlit.testing.v1 import AppTest

from explorer.data.userdata import example_csv, parse_points_csv
from explorer.methods import FAMILIES
from explorer.training.compare import CompareConfig, Comparison

PAGE = str(Path(__file__).resolve().parents[1] / "pages/compare.py")


def _page(params: dict[str, str] | None = None, state: dict | None = None) -> AppTest:
    return run_page(PAGE, state, params)


def _warnings(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


@pytest.fixture(scope="module")
def finished() -> Comparison:
    comparison = Comparison(["gan", "flow"], "eight_gaussians", 0.3, seed=0, device="cpu")
    comparison.run()
    return comparison


def test_the_page_renders_with_every_family_selected() -> None:
    at = _page()
    assert at.multiselect(key="cmp.pick").value == list(FAMILIES)
    assert not at.button(key="cmp.start").disabled and at.button(key="cmp.stop").disabled
    assert any("Press Start" in i.value for i in at.info)
    assert dict(at.query_params) == {}  # defaults leave the URL clean


def test_a_finished_comparison_shows_the_grid_the_table_and_the_reading(finished: Comparison) -> None:
    at = _page(state={"compare:run": finished})
    assert len(plotly_figures(at)) == 2
    table = at.table[0].value
    assert list(table.index) == ["GAN", "Normalizing flow (RealNVP)"]
    assert {"log-density gap (nats)", "mode coverage TV", "evals / sample", "seconds"} <= set(table.columns)
    assert "What to use for what" in [h.value for h in at.subheader]
    reading = " ".join(m.value for m in at.markdown)
    assert "Closest to the target in 0.3 s" in reading and "**Likelihood:**" in reading
    assert "Done: 2 families" in at.get("progress")[0].proto.text


def test_settings_round_trip_through_the_url() -> None:
    changes = {"cmp.density": "two_moons", "cmp.budget_s": 5, "cmp.seed": 3, "cmp.pick": ["gan", "vae"]}
    first = _page(state=changes)
    url = dict(first.query_params)
    assert url == {"density": "two_moons", "budget_s": "5", "seed": "3", "families": "gan,vae"}
    second = _page(params=url)
    assert not _warnings(second)
    assert second.session_state["config:compare"] == first.session_state["config:compare"]
    assert second.session_state["config:compare"] == CompareConfig(
        density="two_moons", budget_s=5, seed=3, families="gan,vae"
    )


def test_bad_links_and_an_empty_selection_give_messages() -> None:
    at = _page(params={"families": "nope,gan", "budget_s": "500", "density": "../x", "colour": "red"})
    notes = _warnings(at)
    assert "Unknown families in the link, ignored: `nope`" in notes and "`colour` is not a setting" in notes
    assert "outside the allowed range" in notes and "Density `../x` is not available" in notes
    assert at.session_state["config:compare"].budget_s == 60 and at.multiselect(key="cmp.pick").value == ["gan"]
    at.multiselect(key="cmp.pick").set_value([]).run()
    ok(at)
    assert "Pick at least one family" in _warnings(at) and at.button(key="cmp.start").disabled


def test_start_runs_a_comparison_and_stop_ends_it() -> None:
    at = _page(state={"cmp.pick": ["gan"], "cmp.budget_s": 30})
    at.button(key="cmp.start").click().run()
    ok(at)
    run = at.session_state["compare:run"]
    assert run.running and run.families == ("gan",) and run.budget_s == 30
    assert at.button(key="cmp.start").disabled and not at.button(key="cmp.stop").disabled
    deadline = time.monotonic() + 20
    while run.progress().current_step == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    at.button(key="cmp.stop").click().run()
    run.join(10)
    ok(at.run())
    assert not run.running and run.progress().results[0].ended == "stopped"
    assert len(plotly_figures(at)) == 1 and len(at.table) == 1


def test_the_users_uploads_are_offered_as_densities() -> None:
    heart = parse_points_csv(example_csv(), "heart.csv")
    at = _page(state={"custom_densities": {heart.name: heart}})
    box = at.selectbox(key="cmp.density")
    assert heart.name in box.options or heart.title in box.options
    box.set_value(heart.name).run()
    ok(at)
    assert at.session_state["config:compare"].density == heart.name
